import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { changeHost, PROMOTION, seedFleet, T0 } from '../../testing/drift-fleet.js';
import { createTestApi, type TestApi } from '../../testing/test-api.js';

const MINUTE = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();
let api: TestApi;

beforeEach(async () => {
  api = createTestApi({ promotion: PROMOTION });
  const { store } = api.aggregator;
  await seedFleet(store);
  // Production, the two hours before an incident at T0+3h: a deploy at 1h10, a config change at 2h30.
  for (const id of ['prod-1', 'prod-2', 'prod-3']) {
    await changeHost(store, id, T0 + 70 * MINUTE, { 'app./srv/app.npm.express': '4.19.0', 'library.dpkg.curl': '8.0' });
  }
  await changeHost(store, 'prod-2', T0 + 150 * MINUTE, { 'config.env.LOG_LEVEL': 'debug' }, ['config.env.DB_PASSWORD']);
  await changeHost(store, 'stg-1', T0 + 100 * MINUTE, { 'config.env.LOG_LEVEL': 'debug' });
  api.clock.now = T0 + 200 * MINUTE;
});
afterEach(async () => {
  await api.aggregator.stop();
});

type FeedChange = { at: string; hostId: string; seq: number; path: string; from?: unknown; to?: unknown };

describe('GET /api/v1/changes', () => {
  it('lists an environment’s changes newest first, with host, path and both values', async () => {
    const { status, body } = await api.get('/api/v1/changes?environment=production');
    expect(status).toBe(200);
    expect(body.environment).toBe('production');
    expect(body.next).toBeNull();
    expect(body.changes).toHaveLength(8);
    expect(body.changes[0]).toEqual({
      at: iso(T0 + 150 * MINUTE),
      hostId: 'prod-2',
      seq: 3,
      path: 'config.env.LOG_LEVEL',
      from: 'info',
      to: 'debug',
    });
    // A removal has no `to`.
    expect(body.changes[1]).toEqual({
      at: iso(T0 + 150 * MINUTE),
      hostId: 'prod-2',
      seq: 3,
      path: 'config.env.DB_PASSWORD',
      from: 'hmac:5b2c1f0a9e',
    });
    const times = body.changes.map((c: FeedChange) => Date.parse(c.at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(body.changes.every((c: FeedChange) => c.hostId.startsWith('prod-'))).toBe(true);
  });

  it('answers “what changed in the two hours before it broke” with since/until, and filters by path', async () => {
    const window = await api.get(
      `/api/v1/changes?environment=production&since=${iso(T0 + 60 * MINUTE)}&until=${iso(T0 + 120 * MINUTE)}`,
    );
    expect(window.body.changes).toHaveLength(6);
    expect(new Set(window.body.changes.map((c: FeedChange) => c.at))).toEqual(new Set([iso(T0 + 70 * MINUTE)]));
    const library = await api.get('/api/v1/changes?environment=production&path=library');
    expect(library.body.changes.map((c: FeedChange) => c.path)).toEqual([
      'library.dpkg.curl',
      'library.dpkg.curl',
      'library.dpkg.curl',
    ]);
    const glob = await api.get('/api/v1/changes?environment=production&path=config.env.*');
    expect(glob.body.changes.map((c: FeedChange) => c.path).sort()).toEqual([
      'config.env.DB_PASSWORD',
      'config.env.LOG_LEVEL',
    ]);
    const staging = await api.get('/api/v1/changes?environment=staging');
    expect(staging.body.changes).toEqual([
      { at: iso(T0 + 100 * MINUTE), hostId: 'stg-1', seq: 2, path: 'config.env.LOG_LEVEL', from: 'info', to: 'debug' },
    ]);
  });

  it('pages with the `next` cursor: every change once, none skipped at the same millisecond', async () => {
    const all = (await api.get('/api/v1/changes?environment=production')).body.changes as FeedChange[];
    const paged: FeedChange[] = [];
    let next: string | null = null;
    let pages = 0;
    do {
      const url = `/api/v1/changes?environment=production&limit=3${next ? `&before=${encodeURIComponent(next)}` : ''}`;
      const { status, body } = await api.get(url);
      expect(status).toBe(200);
      expect(body.changes.length).toBeLessThanOrEqual(3);
      paged.push(...body.changes);
      next = body.next;
      pages++;
    } while (next && pages < 10);
    expect(pages).toBe(3);
    expect(paged).toEqual(all);
    // A bare time is a cursor too: changes at or before it.
    const before = await api.get(`/api/v1/changes?environment=production&before=${iso(T0 + 100 * MINUTE)}`);
    expect(before.body.changes).toHaveLength(6);
  });

  it('answers 400 naming the parameter, 404 for an unknown environment', async () => {
    for (const [query, field] of [
      ['', 'environment'],
      ['environment=production&since=yesterday', 'since'],
      ['environment=production&since=2025-01-02&until=2025-01-01', 'until'],
      ['environment=production&limit=0', 'limit'],
      ['environment=production&limit=5000', 'limit'],
      ['environment=production&before=soon', 'before'],
      ['environment=production&path=library..x', 'path'],
      ['environment=production&colour=red', 'colour'],
      ['environment=no%20spaces', 'environment'],
    ]) {
      const { status, body } = await api.get(`/api/v1/changes?${query}`);
      expect(status, query).toBe(400);
      expect(body.error.message, query).toContain(field);
    }
    const unknown = await api.get('/api/v1/changes?environment=prod');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toContain('"prod"');
    expect((await api.get('/api/v1/changes?environment=production', null)).status).toBe(401);
  });
});
