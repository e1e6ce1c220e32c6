import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { changeHost, PROMOTION, seedFleet, T0 } from '../../testing/drift-fleet.js';
import { createTestApi, type TestApi } from '../../testing/test-api.js';

let api: TestApi;
beforeEach(async () => {
  api = createTestApi({ promotion: PROMOTION });
  await seedFleet(api.aggregator.store);
  await api.aggregator.drift.settle();
});
afterEach(async () => {
  await api.aggregator.stop();
});

const summary = (
  events: { kind: string; environment: string; otherEnvironment?: string; hostId?: string; path: string }[],
) => events.map((e) => [e.kind, e.environment, e.otherEnvironment ?? e.hostId, e.path].join(' ')).sort();

describe('GET /api/v1/drift', () => {
  it('lists open events with their fields and openedAt', async () => {
    const { status, body } = await api.get('/api/v1/drift?status=open');
    expect(status).toBe(200);
    expect(body.truncated).toBe(false);
    expect(summary(body.events)).toEqual([
      'environment dev staging config.env.LOG_LEVEL',
      'environment dev staging library.openssl',
      'environment staging production library.openssl',
      'outlier production prod-3 config.env.LOG_LEVEL',
    ]);
    expect(body.events.find((e: { kind: string }) => e.kind === 'outlier')).toEqual({
      id: expect.stringMatching(/^\d+$/),
      kind: 'outlier',
      environment: 'production',
      hostId: 'prod-3',
      path: 'config.env.LOG_LEVEL',
      expected: 'info',
      actual: 'warn',
      status: 'open',
      openedAt: new Date(T0).toISOString(),
      count: 1,
      paths: ['config.env.LOG_LEVEL'],
      hosts: ['prod-3'],
      hostCount: 1,
    });
  });

  it('lists resolved events with resolvedAt once the difference is gone', async () => {
    api.clock.now += 120_000;
    await changeHost(api.aggregator.store, 'prod-3', api.clock.now, { 'config.env.LOG_LEVEL': 'info' });
    await api.aggregator.drift.settle();
    const resolved = await api.get('/api/v1/drift?status=resolved&kind=outlier');
    expect(resolved.body.events).toEqual([
      expect.objectContaining({
        hostId: 'prod-3',
        status: 'resolved',
        openedAt: new Date(T0).toISOString(),
        resolvedAt: new Date(api.clock.now).toISOString(),
      }),
    ]);
    const open = await api.get('/api/v1/drift?status=open&kind=outlier');
    expect(open.body.events).toEqual([]);
  });

  it('filters by environment (either side), host and kind, newest first, with a limit', async () => {
    const production = await api.get('/api/v1/drift?environment=production');
    expect(summary(production.body.events)).toEqual([
      'environment staging production library.openssl',
      'outlier production prod-3 config.env.LOG_LEVEL',
    ]);
    const host = await api.get('/api/v1/drift?hostId=prod-3');
    expect(host.body.events).toHaveLength(1);
    const limited = await api.get('/api/v1/drift?limit=1');
    expect(limited.body).toMatchObject({ truncated: true, events: [{ id: '4' }] });
  });

  it('opens events for differences an exception stopped justifying, when read after the expiry', async () => {
    const created = await api.request('POST', '/api/v1/exceptions', {
      body: {
        path: 'library.openssl',
        environments: ['staging', 'production'],
        reason: 'rolling upgrade',
        expiresAt: new Date(api.clock.now + 60_000).toISOString(),
      },
    });
    await api.aggregator.drift.settle();
    const justifiedGone = await api.get('/api/v1/drift?status=open&environment=staging');
    expect(summary(justifiedGone.body.events)).not.toContain('environment staging production library.openssl');
    const resolved = await api.get('/api/v1/drift?status=resolved');
    expect(summary(resolved.body.events)).toEqual(['environment staging production library.openssl']);

    api.clock.now += 60_000;
    // No settle: the read itself notices the expiry.
    const reopened = await api.get('/api/v1/drift?status=open&environment=production&kind=environment');
    expect(reopened.body.events).toEqual([
      expect.objectContaining({ path: 'library.openssl', openedAt: new Date(api.clock.now).toISOString() }),
    ]);
    const listed = await api.get('/api/v1/exceptions');
    expect(listed.body.exceptions).toEqual([expect.objectContaining({ id: created.body.id, expired: true })]);
  });

  it('lists emergency changes, and flags them in the host’s changes', async () => {
    api.clock.now += 60_000;
    await changeHost(api.aggregator.store, 'prod-2', api.clock.now, { 'library.openssl': '3.0.16' });
    await api.aggregator.drift.settle();
    // One edit, one event: the outlier group prod-2's change caused, marked as an emergency (no
    // separate event of kind emergency any more).
    expect((await api.get('/api/v1/drift?kind=emergency')).body.events).toEqual([]);
    const { body } = await api.get('/api/v1/drift?kind=outlier&hostId=prod-2');
    expect(body.events).toEqual([
      {
        id: expect.any(String),
        kind: 'outlier',
        environment: 'production',
        hostId: 'prod-2',
        path: 'library.openssl',
        expected: '3.0.11',
        actual: '3.0.16',
        status: 'open',
        openedAt: new Date(api.clock.now).toISOString(),
        emergency: true,
        upstream: 'staging',
        hosts: ['prod-2'],
        hostCount: 1,
        count: 1,
        paths: ['library.openssl'],
      },
    ]);
    const changes = await api.get(`/api/v1/hosts/prod-2/changes?since=${new Date(api.clock.now).toISOString()}`);
    expect(changes.body.changes).toEqual([
      {
        at: new Date(api.clock.now).toISOString(),
        seq: 2,
        path: 'library.openssl',
        from: '3.0.11',
        to: '3.0.16',
        emergency: true,
      },
    ]);
    // A change staging already made is not an emergency.
    await changeHost(api.aggregator.store, 'prod-1', api.clock.now, { 'library.openssl': '3.0.13' });
    await api.aggregator.drift.settle();
    const prod1 = await api.get('/api/v1/hosts/prod-1/changes?limit=100');
    expect(prod1.body.changes.filter((c: { emergency?: boolean }) => c.emergency)).toEqual([]);
  });

  it('validates its query', async () => {
    for (const [query, field] of [
      ['status=closed', 'status'],
      ['kind=typo', 'kind'],
      ['limit=0', 'limit'],
      ['state=open', 'state'],
    ]) {
      const { status, body } = await api.get(`/api/v1/drift?${query}`);
      expect(status).toBe(400);
      expect(body.error.message).toContain(field);
    }
  });
});
