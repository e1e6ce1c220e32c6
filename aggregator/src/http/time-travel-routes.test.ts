import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addHost, changeHost, PROMOTION, seedFleet, serverFacts, T0 } from '../../testing/drift-fleet.js';
import { createTestApi, type TestApi } from '../../testing/test-api.js';

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
let api: TestApi;

/** T0: the standard fleet. T0+2h: production upgrades openssl. T0+3h: prod-4 joins. T0+4h: prod-3 retired. */
beforeEach(async () => {
  api = createTestApi({ promotion: PROMOTION });
  const { store } = api.aggregator;
  await seedFleet(store);
  for (const id of ['prod-1', 'prod-2', 'prod-3'])
    await changeHost(store, id, T0 + 2 * HOUR, { 'library.openssl': '3.0.13' });
  await addHost(store, 'prod-4', 'production', serverFacts('prod-4', { 'library.openssl': '3.0.13' }), T0 + 3 * HOUR);
  api.clock.now = T0 + 4 * HOUR;
  expect((await api.request('DELETE', '/api/v1/hosts/prod-3')).status).toBe(200);
  api.clock.now = T0 + 5 * HOUR;
});
afterEach(async () => {
  await api.aggregator.stop();
});

describe('GET /api/v1/hosts/:id?at=', () => {
  it('answers the host as it was, in the same shape, with the instant and where its history starts', async () => {
    const live = await api.get('/api/v1/hosts/prod-1');
    const { status, body } = await api.get(`/api/v1/hosts/prod-1?at=${iso(T0 + HOUR)}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      id: 'prod-1',
      environment: 'production',
      at: iso(T0 + HOUR),
      historyStartsAt: iso(T0),
    });
    expect(body.facts['library.openssl']).toBe('3.0.11');
    expect(live.body.facts['library.openssl']).toBe('3.0.13');
    // Volatile facts are not recorded as changes: left out of a past state.
    expect(live.body.facts['os.uptime']).toBeDefined();
    expect(body.facts['os.uptime']).toBeUndefined();
    expect(body.fingerprint).not.toBe(live.body.fingerprint);
    expect(body.fingerprints.library).not.toBe(live.body.fingerprints.library);
    expect(body.fingerprints.os).toBe(live.body.fingerprints.os);
    expect(live.body.at).toBeUndefined();
  });

  it('answers a retired host at a time it was current', async () => {
    const { status, body } = await api.get(`/api/v1/hosts/prod-3?at=${iso(T0 + HOUR)}`);
    expect(status).toBe(200);
    expect(body.retiredAt).toBe(iso(T0 + 4 * HOUR));
    expect(body.facts['config.env.LOG_LEVEL']).toBe('warn');
  });

  it('answers 409 before the host’s history, 400 for a future or malformed instant, 404 for an unknown host', async () => {
    const early = await api.get(`/api/v1/hosts/prod-4?at=${iso(T0 + HOUR)}`);
    expect(early.status).toBe(409);
    expect(early.body.error.message).toContain(`host "prod-4" has no history before ${iso(T0 + 3 * HOUR)}`);
    const future = await api.get(`/api/v1/hosts/prod-1?at=${iso(T0 + 6 * HOUR)}`);
    expect(future.status).toBe(400);
    expect(future.body.error.message).toContain('`at`');
    expect(future.body.error.message).toContain('in the future');
    const bad = await api.get('/api/v1/hosts/prod-1?at=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('at');
    expect((await api.get(`/api/v1/hosts/ghost?at=${iso(T0)}`)).status).toBe(404);
    expect((await api.get('/api/v1/hosts/prod-1?since=x')).status).toBe(400);
  });
});

describe('GET /api/v1/environments/:env/baseline?at=', () => {
  it('answers the baseline of the hosts the environment had then, with the instant and the hosts left out', async () => {
    const { status, body } = await api.get(`/api/v1/environments/production/baseline?at=${iso(T0 + HOUR)}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      environment: 'production',
      at: iso(T0 + HOUR),
      hosts: 3,
      hostsLeftOut: 1,
      stale: false,
    });
    expect(body.facts['library.openssl']).toBe('3.0.11');
    expect(body.support['config.env.LOG_LEVEL']).toBe(2);
    expect(body.classes).toEqual([]);
    const live = await api.get('/api/v1/environments/production/baseline');
    expect(live.body.facts['library.openssl']).toBe('3.0.13');
    expect(live.body.at).toBeUndefined();
    // prod-3 was retired at T0+4h: from then on prod-1, prod-2, prod-4.
    const late = await api.get(`/api/v1/environments/production/baseline?at=${iso(T0 + 4.5 * HOUR)}`);
    expect(late.body).toMatchObject({ hosts: 3, hostsLeftOut: 0 });
    expect(late.body.support['config.env.LOG_LEVEL']).toBe(3);
  });

  it('answers 404 for an unknown environment, 400 for a future or malformed instant', async () => {
    expect((await api.get(`/api/v1/environments/prod/baseline?at=${iso(T0)}`)).status).toBe(404);
    const future = await api.get(`/api/v1/environments/production/baseline?at=${iso(T0 + 6 * HOUR)}`);
    expect(future.status).toBe(400);
    expect(future.body.error.message).toContain('`at`');
    const bad = await api.get('/api/v1/environments/production/baseline?at=2025-13-45');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('at');
  });

  it('answers 409 for an instant before the retention edge', async () => {
    const short = createTestApi({ promotion: PROMOTION, changeRetentionSeconds: 86_400 });
    try {
      await seedFleet(short.aggregator.store);
      short.clock.now = T0 + 48 * HOUR;
      const old = await short.get(`/api/v1/environments/production/baseline?at=${iso(T0 + HOUR)}`);
      expect(old.status).toBe(409);
      expect(old.body.error.message).toContain(`before the retention edge ${iso(T0 + 24 * HOUR)}`);
      const edge = await short.get(`/api/v1/environments/production/baseline?at=${iso(T0 + 24 * HOUR)}`);
      expect(edge.status).toBe(200);
      expect(edge.body.hosts).toBe(3);
    } finally {
      await short.aggregator.stop();
    }
  });
});

describe('GET /api/v1/compare with at, fromAt, toAt', () => {
  it('compares both sides at `at`, judged as the live compare judges', async () => {
    const live = await api.get('/api/v1/compare?from=staging&to=production');
    expect(live.body.differences.map((d: { path: string }) => d.path)).not.toContain('library.openssl');
    expect(live.body.fromAt).toBeUndefined();
    const { status, body } = await api.get(`/api/v1/compare?from=staging&to=production&at=${iso(T0 + HOUR)}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ from: 'staging', to: 'production', fromAt: iso(T0 + HOUR), toAt: iso(T0 + HOUR) });
    expect(body.differences).toContainEqual({
      path: 'library.openssl',
      category: 'library',
      from: '3.0.13',
      to: '3.0.11',
      status: 'drift',
    });
    expect(body.parity).toBeLessThan(live.body.parity);
    // At now the answer is the live one.
    const now = await api.get(`/api/v1/compare?from=staging&to=production&at=${iso(T0 + 5 * HOUR)}`);
    expect(now.body.differences).toEqual(live.body.differences);
    expect(now.body.parity).toBe(live.body.parity);
  });

  it('takes one instant per side (staging now against production at the incident), and host sides', async () => {
    const { body } = await api.get(`/api/v1/compare?from=staging&to=production&toAt=${iso(T0 + HOUR)}`);
    expect(body).toMatchObject({ fromAt: null, toAt: iso(T0 + HOUR) });
    expect(body.differences).toContainEqual(
      expect.objectContaining({ path: 'library.openssl', from: '3.0.13', to: '3.0.11' }),
    );
    const hosts = await api.get(`/api/v1/compare?fromHost=prod-1&to=host:prod-1&fromAt=${iso(T0 + HOUR)}`);
    expect(hosts.status).toBe(200);
    expect(hosts.body.differences).toEqual([
      { path: 'library.openssl', category: 'library', from: '3.0.11', to: '3.0.13', status: 'drift' },
    ]);
    expect(hosts.body.sides.from).toMatchObject({ kind: 'host', name: 'prod-1' });
  });

  it('an exception justifies a past difference as it would today', async () => {
    await api.request('POST', '/api/v1/exceptions', {
      body: { path: 'library.openssl', environments: ['staging', 'production'], reason: 'production lags one patch' },
    });
    const { body } = await api.get(`/api/v1/compare?from=staging&to=production&at=${iso(T0 + HOUR)}`);
    expect(body.differences).toContainEqual(expect.objectContaining({ path: 'library.openssl', status: 'justified' }));
  });

  it('answers 400 naming `at` with fromAt/toAt, or a future instant; 409 before a host’s history', async () => {
    const both = await api.get(`/api/v1/compare?from=staging&to=production&at=${iso(T0)}&toAt=${iso(T0)}`);
    expect(both.status).toBe(400);
    expect(both.body.error.message).toContain('`at`');
    const future = await api.get(`/api/v1/compare?from=staging&to=production&fromAt=${iso(T0 + 6 * HOUR)}`);
    expect(future.status).toBe(400);
    expect(future.body.error.message).toContain('`fromAt`');
    const bad = await api.get('/api/v1/compare?from=staging&to=production&toAt=soon');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('toAt');
    const early = await api.get(`/api/v1/compare?from=staging&toHost=prod-4&toAt=${iso(T0 + HOUR)}`);
    expect(early.status).toBe(409);
    expect(early.body.error.message).toContain('prod-4');
    expect((await api.get(`/api/v1/compare?from=staging&to=prod&at=${iso(T0)}`)).status).toBe(404);
  });
});
