import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addHost, PROMOTION, seedFleet, serverFacts } from '../../testing/drift-fleet.js';
import { createTestApi, type TestApi } from '../../testing/test-api.js';

let api: TestApi;
beforeEach(async () => {
  api = createTestApi({ promotion: PROMOTION });
  await seedFleet(api.aggregator.store);
});
afterEach(async () => {
  await api.aggregator.stop();
});

describe('GET /api/v1/environments', () => {
  it('is a JSON array in promotion order with counts and baseline fingerprints', async () => {
    api.presence.set('prod-1', true);
    await api.aggregator.drift.settle();
    const { status, body } = await api.get('/api/v1/environments');
    expect(status).toBe(200);
    expect(Array.isArray(body)).toBe(true);
    expect(body.map((env: { name: string }) => env.name)).toEqual(['dev', 'staging', 'production']);
    const production = body[2];
    expect(production).toEqual({
      name: 'production',
      hosts: 3,
      online: 1,
      fingerprint: expect.stringMatching(/^ep1:[0-9a-f]{64}$/),
      stale: false,
      ties: 0,
      // prod-2 and prod-3 are offline within the presence grace: still counted, prod-3 still an outlier.
      outlierHosts: 1,
      openDrift: expect.any(Number),
      upstream: 'staging',
      downstream: null,
    });
    expect(body[0]).toMatchObject({ name: 'dev', upstream: null, downstream: 'staging', stale: true });
    // staging's two hosts are identical in behavior: the baseline fingerprint is theirs.
    const stg = api.aggregator.store.getHost('stg-1');
    expect(body[1].fingerprint).toBe(stg?.fingerprint);
  });

  it('counts open drift and outlier hosts', async () => {
    await api.aggregator.drift.settle();
    const { body } = await api.get('/api/v1/environments');
    const production = body.find((env: { name: string }) => env.name === 'production');
    // staging -> production openssl, and the prod-3 outlier.
    expect(production).toMatchObject({ outlierHosts: 1, openDrift: 2, stale: true });
  });

  it('lists an environment with hosts but no facts yet with a null fingerprint', async () => {
    await api.aggregator.store.enrollHost({
      hostId: 'qa-1',
      tokenHash: 'h-qa-1',
      environment: 'qa',
      labels: {},
      agentVersion: '0.1.0',
      at: api.clock.now,
    });
    const { body } = await api.get('/api/v1/environments');
    expect(body.at(-1)).toMatchObject({ name: 'qa', hosts: 1, fingerprint: null, upstream: null });
  });
});

describe('GET /api/v1/environments/:env/baseline', () => {
  it('returns the dominant values of compared paths, without identity or volatile facts', async () => {
    const { status, body } = await api.get('/api/v1/environments/production/baseline');
    expect(status).toBe(200);
    expect(body).toMatchObject({ environment: 'production', hosts: 3, stale: true, ties: [] });
    expect(body.facts).toMatchObject({
      'library.openssl': '3.0.11',
      'config.env.LOG_LEVEL': 'info',
      'hardware.cpu.cores': 16,
      'network.dns.servers': ['10.0.0.2', '10.0.0.3'],
    });
    expect(body.facts).not.toHaveProperty(['host.hostname']);
    expect(body.facts).not.toHaveProperty(['os.uptime']);
    expect(body.support['config.env.LOG_LEVEL']).toBe(2);
    expect(body.fingerprint).toMatch(/^ep1:/);
  });

  it('uses counted hosts only (offline past the grace leave), and reports ties without breaking them', async () => {
    const custom = createTestApi({ promotion: PROMOTION, presenceTiming: { graceSeconds: 60 } });
    await seedFleet(custom.aggregator.store);
    await addHost(custom.aggregator.store, 'stg-3', 'staging', serverFacts('stg-3', { 'library.openssl': '3.0.14' }));
    custom.presence.set('stg-1', true);
    custom.presence.set('stg-3', true);
    custom.clock.now += 61_000;
    await custom.aggregator.drift.settle();
    const { body } = await custom.get('/api/v1/environments/staging/baseline');
    await custom.aggregator.stop();
    expect(body).toMatchObject({ hosts: 2, stale: false });
    expect(body.ties).toEqual([
      {
        path: 'library.openssl',
        candidates: [
          { value: '3.0.13', hosts: 1 },
          { value: '3.0.14', hosts: 1 },
        ],
      },
    ]);
    expect(body.facts).not.toHaveProperty(['library.openssl']);
  });

  it('applies and publishes the class overrides (verify classifies with them)', async () => {
    const classes = [{ glob: 'config.env.LOG_LEVEL', class: 'volatile' as const }];
    const custom = createTestApi({ promotion: PROMOTION, classes });
    try {
      await seedFleet(custom.aggregator.store);
      const { body } = await custom.get('/api/v1/environments/production/baseline');
      expect(body.classes).toEqual(classes);
      expect(body.facts).not.toHaveProperty(['config.env.LOG_LEVEL']);
      expect((await custom.get('/api/v1/environments/production/outliers')).body.outliers).toEqual([]);
    } finally {
      await custom.aggregator.stop();
    }
    expect((await api.get('/api/v1/environments/production/baseline')).body.classes).toEqual([]);
  });

  it('answers 404 for an environment no host reported and 400 for a malformed name', async () => {
    const unknown = await api.get('/api/v1/environments/qa/baseline');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toEqual({
      code: 'NOT_FOUND',
      message:
        'unknown environment "qa": no host has reported it and the aggregator config does not declare it ' +
        '(`environments:`); known: dev, production, staging',
    });
    const bad = await api.get('/api/v1/environments/no%20spaces/baseline');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('env');
  });
});

describe('GET /api/v1/environments/:env/outliers', () => {
  it('lists behavior outliers by default and scale ones on request', async () => {
    await addHost(
      api.aggregator.store,
      'prod-4',
      'production',
      serverFacts('prod-4', { 'library.openssl': '3.0.11', 'hardware.cpu.cores': 4 }),
    );
    const { status, body } = await api.get('/api/v1/environments/production/outliers');
    expect(status).toBe(200);
    expect(body).toEqual({
      environment: 'production',
      hosts: 4,
      stale: true,
      outliers: [
        {
          hostId: 'prod-3',
          path: 'config.env.LOG_LEVEL',
          expected: 'info',
          actual: 'warn',
          class: 'behavior',
          status: 'drift',
        },
      ],
      total: 1,
      truncated: false,
    });
    const withScale = await api.get('/api/v1/environments/production/outliers?includeScale=true');
    expect(withScale.body.outliers).toContainEqual({
      hostId: 'prod-4',
      path: 'hardware.cpu.cores',
      expected: 16,
      actual: 4,
      class: 'scale',
      status: 'scale',
    });
  });

  it('lists at most `limit` outliers (hosts by id, then paths), with the total', async () => {
    await addHost(
      api.aggregator.store,
      'prod-4',
      'production',
      serverFacts('prod-4', { 'config.env.LOG_LEVEL': 'debug', 'library.openssl': '3.0.99' }),
    );
    const all = await api.get('/api/v1/environments/production/outliers');
    expect(all.body).toMatchObject({ total: 3, truncated: false });
    expect(all.body.outliers.map((o: { hostId: string; path: string }) => `${o.hostId} ${o.path}`)).toEqual([
      'prod-3 config.env.LOG_LEVEL',
      'prod-4 config.env.LOG_LEVEL',
      'prod-4 library.openssl',
    ]);
    const page = await api.get('/api/v1/environments/production/outliers?limit=2');
    expect(page.body).toMatchObject({ total: 3, truncated: true });
    expect(page.body.outliers).toEqual(all.body.outliers.slice(0, 2));
    expect((await api.get('/api/v1/environments/production/outliers?limit=0')).status).toBe(400);
    expect((await api.get('/api/v1/environments/production/outliers?limit=100001')).status).toBe(400);
  });

  it('marks outliers an exception covers as justified', async () => {
    const created = await api.request('POST', '/api/v1/exceptions', {
      body: { path: 'config.env.*', environments: ['production'], reason: 'prod-3 debugs a customer issue' },
    });
    expect(created.status).toBe(201);
    const { body } = await api.get('/api/v1/environments/production/outliers');
    expect(body.outliers).toEqual([
      expect.objectContaining({
        hostId: 'prod-3',
        status: 'justified',
        exception: { id: created.body.id, reason: 'prod-3 debugs a customer issue' },
      }),
    ]);
  });

  it('reports no outlier on a tied path', async () => {
    await addHost(api.aggregator.store, 'stg-3', 'staging', serverFacts('stg-3', { 'library.openssl': '3.0.14' }));
    await addHost(api.aggregator.store, 'stg-4', 'staging', serverFacts('stg-4', { 'library.openssl': '3.0.14' }));
    const { body } = await api.get('/api/v1/environments/staging/outliers');
    expect(body.outliers).toEqual([]);
  });

  it('validates includeScale and answers 404 for unknown environments', async () => {
    const bad = await api.get('/api/v1/environments/production/outliers?includeScale=yes');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('includeScale');
    expect((await api.get('/api/v1/environments/qa/outliers')).status).toBe(404);
  });
});
