import type { FactMap, ReportMessage } from '@envparity/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Aggregator, createAggregator } from '../aggregator.js';
import { hashToken } from '../token-hash.js';

const ADMIN = 'admin-token';
const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const LIBRARY: FactMap = { 'library.dpkg.openssl': '3.0.11', 'library.dpkg.libc6': '2.36' };
const OS: FactMap = { 'os.distro.id': 'debian', 'os.release': '12', 'os.cpu.flags': ['sse', 'avx'] };

let aggregator: Aggregator;

beforeEach(async () => {
  aggregator = createAggregator({ adminToken: ADMIN, flushIntervalMs: 1 });
  const { store } = aggregator;
  for (const [hostId, environment] of [
    ['web-1', 'staging'],
    ['web-2', 'production'],
    ['web-3', 'production'],
  ] as const) {
    await store.enrollHost({
      hostId,
      tokenHash: hashToken(hostId),
      environment,
      labels: { service: 'api' },
      agentVersion: '0.1.0',
      at: T0,
    });
    const report: ReportMessage = { type: 'report', seq: 1, observedAt: T0, full: { os: OS, library: LIBRARY } };
    await store.ingestReport({ hostId, report, receivedAt: T0 + 1 });
  }
  await store.ingestReport({
    hostId: 'web-3',
    report: {
      type: 'report',
      seq: 2,
      observedAt: T0 + 60_000,
      delta: { library: { set: { 'library.dpkg.openssl': '3.0.13' }, unset: ['library.dpkg.libc6'] } },
    },
    receivedAt: T0 + 60_001,
  });
});

afterEach(async () => {
  await aggregator.stop();
});

function get(path: string, token: string | undefined = ADMIN) {
  return aggregator.app.request(path, token ? { headers: { authorization: `Bearer ${token}` } } : {});
}

async function json(path: string, token?: string) {
  const res = await get(path, token);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('open routes', () => {
  it('GET /healthz needs no token', async () => {
    expect(await json('/healthz', '')).toEqual({ status: 200, body: { status: 'ok' } });
  });

  it('GET /metrics serves Prometheus text without a token', async () => {
    const res = await get('/metrics', '');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const text = await res.text();
    for (const name of [
      'envparity_agents_connected',
      'envparity_ingest_messages_total',
      'envparity_ingest_bytes_total',
      'envparity_ingest_rejected_total',
      'envparity_ingest_latency_seconds',
      'envparity_store_bytes',
      'envparity_hosts',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text).toMatch(/^envparity_hosts 3$/m);
    expect(text).toMatch(/^envparity_store_bytes [1-9]\d*$/m);
  });
});

describe('auth', () => {
  it('answers 401 without a token or with an unknown one', async () => {
    for (const token of ['', 'wrong']) {
      const { status, body } = await json('/api/v1/hosts', token);
      expect(status).toBe(401);
      expect(body).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    }
    const malformed = await aggregator.app.request('/api/v1/hosts', { headers: { authorization: 'Basic abc' } });
    expect(malformed.status).toBe(401);
  });

  it('accepts read tokens from the store, and stops accepting them once revoked', async () => {
    const record = await aggregator.store.createApiToken({
      name: 'dash',
      scope: 'read',
      tokenHash: hashToken('r1'),
      at: T0,
    });
    expect((await get('/api/v1/hosts', 'r1')).status).toBe(200);
    await aggregator.store.revokeApiToken(record.id, T0);
    expect((await get('/api/v1/hosts', 'r1')).status).toBe(401);
  });

  it('answers unknown routes with a JSON 404', async () => {
    expect(await json('/api/v1/nope')).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
  });
});

describe('GET /api/v1/hosts', () => {
  it('lists hosts', async () => {
    const { status, body } = await json('/api/v1/hosts');
    expect(status).toBe(200);
    const hosts = body.hosts as Record<string, unknown>[];
    expect(hosts.map((h) => h.id)).toEqual(['web-1', 'web-2', 'web-3']);
    expect(hosts[0]).toEqual({
      id: 'web-1',
      environment: 'staging',
      labels: { service: 'api' },
      online: false,
      lastSeen: new Date(T0 + 1).toISOString(),
      fingerprint: expect.stringMatching(/^ep1:[0-9a-f]{64}$/),
      // Not connected, within the presence grace: still counted in the baseline.
      presence: 'offline',
    });
    expect(hosts[0]?.fingerprint).toBe(hosts[1]?.fingerprint);
    expect(hosts[2]?.fingerprint).not.toBe(hosts[1]?.fingerprint);
  });

  it('filters by environment and by fact value', async () => {
    const byEnv = await json('/api/v1/hosts?environment=production');
    expect((byEnv.body.hosts as { id: string }[]).map((h) => h.id)).toEqual(['web-2', 'web-3']);
    const byFact = await json('/api/v1/hosts?fact=library.dpkg.openssl&value=3.0.13');
    expect((byFact.body.hosts as { id: string }[]).map((h) => h.id)).toEqual(['web-3']);
    const byArray = await json(`/api/v1/hosts?fact=os.cpu.flags&value=${encodeURIComponent('["sse","avx"]')}`);
    expect((byArray.body.hosts as unknown[]).length).toBe(3);
    const hasFact = await json('/api/v1/hosts?fact=library.dpkg.libc6');
    expect((hasFact.body.hosts as { id: string }[]).map((h) => h.id)).toEqual(['web-1', 'web-2']);
  });

  it('answers 400 naming the bad query field', async () => {
    for (const [query, field] of [
      ['enviroment=production', 'enviroment'],
      ['environment=no%20spaces', 'environment'],
      ['value=1', 'value'],
      ['fact=..bad', 'fact'],
    ]) {
      const { status, body } = await json(`/api/v1/hosts?${query}`);
      expect(status).toBe(400);
      expect(body).toMatchObject({ error: { code: 'INVALID_REQUEST' } });
      expect((body.error as { message: string }).message).toContain(field);
    }
  });
});

describe('GET /api/v1/hosts/:id', () => {
  it('returns one host with its facts', async () => {
    const { status, body } = await json('/api/v1/hosts/web-3');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      id: 'web-3',
      environment: 'production',
      online: false,
      agentVersion: '0.1.0',
      lastSeq: 2,
      lastSeen: new Date(T0 + 60_001).toISOString(),
      facts: { ...OS, 'library.dpkg.openssl': '3.0.13' },
    });
    expect(Object.keys(body.fingerprints as object).sort()).toEqual(['library', 'os']);
    expect(body.facts).not.toHaveProperty(['library.dpkg.libc6']);
  });

  it('answers 404 for an unknown host', async () => {
    expect(await json('/api/v1/hosts/ghost')).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
  });
});

describe('GET /api/v1/hosts/:id/changes', () => {
  it('lists changes oldest first, with from/to absent for additions and removals', async () => {
    const { status, body } = await json(`/api/v1/hosts/web-3/changes?since=${new Date(T0 + 1).toISOString()}`);
    expect(status).toBe(200);
    expect(body).toEqual({
      changes: [
        { at: new Date(T0 + 60_000).toISOString(), seq: 2, path: 'library.dpkg.libc6', from: '2.36' },
        { at: new Date(T0 + 60_000).toISOString(), seq: 2, path: 'library.dpkg.openssl', from: '3.0.11', to: '3.0.13' },
      ],
      truncated: false,
    });
  });

  it('honours limit and reports truncation', async () => {
    // The first report is the host's initial state, not a change: history starts with the second.
    const { body } = await json('/api/v1/hosts/web-3/changes?limit=1');
    expect((body.changes as unknown[]).length).toBe(1);
    expect(body.truncated).toBe(true);
    expect((body.changes as { at: string }[])[0]?.at).toBe(new Date(T0 + 60_000).toISOString());
  });

  it('validates since and limit', async () => {
    for (const [query, field] of [
      ['since=yesterday', 'since'],
      ['limit=0', 'limit'],
      ['limit=abc', 'limit'],
      ['limit=100000', 'limit'],
    ]) {
      const { status, body } = await json(`/api/v1/hosts/web-3/changes?${query}`);
      expect(status).toBe(400);
      expect((body.error as { message: string }).message).toContain(field);
    }
  });

  it('answers 404 for an unknown host', async () => {
    expect((await get('/api/v1/hosts/ghost/changes')).status).toBe(404);
  });
});
