import { afterEach, describe, expect, it } from 'vitest';
import { addHost, changeHost, PROMOTION, seedFleet, serverFacts, T0 } from '../../testing/drift-fleet.js';
import { createTestApi, type TestApi } from '../../testing/test-api.js';

const HOUR = 3_600_000;

let api: TestApi;
afterEach(async () => {
  await api.aggregator.stop();
});

/** The standard fleet; both staging hosts then move to openssl 3.0.14, and production hotfixes curl. */
async function promotedFleet(): Promise<void> {
  api = createTestApi({ promotion: PROMOTION });
  await seedFleet(api.aggregator.store);
  for (const id of ['stg-1', 'stg-2'])
    await changeHost(api.aggregator.store, id, T0 + HOUR, { 'library.openssl': '3.0.14' });
  await changeHost(api.aggregator.store, 'prod-1', T0 + 2 * HOUR, { 'library.dpkg.curl': '7.88.1-10+deb12u6' });
  api.clock.now = T0 + 3 * HOUR;
}

describe('GET /api/v1/promotion', () => {
  it('answers each adjacent pair of the promotion order, with ISO times and host counts', async () => {
    await promotedFleet();
    const { status, body } = await api.get('/api/v1/promotion');
    expect(status).toBe(200);
    expect(body.at).toBe(new Date(T0 + 3 * HOUR).toISOString());
    expect(body.historyTruncated).toBe(false);
    expect(body.note).toBeUndefined();
    expect(body.pairs.map((p: { from: string; to: string }) => `${p.from}->${p.to}`)).toEqual([
      'dev->staging',
      'staging->production',
    ]);
    const [devStaging, stagingProduction] = body.pairs;
    // dev-1 started with 3.0.14 (no change): staging's move follows dev, nothing out of order there.
    expect(devStaging.outOfOrder).toEqual([]);
    expect(stagingProduction.counts).toEqual({ waiting: 1, outOfOrder: 1, justified: 0 });
    expect(stagingProduction.waiting).toEqual([
      {
        path: 'library.openssl',
        category: 'library',
        value: '3.0.14',
        previous: '3.0.13',
        since: new Date(T0 + HOUR).toISOString(),
        majoritySince: new Date(T0 + HOUR).toISOString(),
        ageSeconds: 7200,
        fromHosts: 2,
        fromTotal: 2,
        toHosts: 0,
        toTotal: 3,
        toValue: '3.0.11',
        action: 'promote',
      },
    ]);
    expect(stagingProduction.outOfOrder).toEqual([
      {
        path: 'library.dpkg.curl',
        category: 'library',
        value: '7.88.1-10+deb12u6',
        previous: '7.88.1-10+deb12u5',
        fromValue: '7.88.1-10+deb12u5',
        since: new Date(T0 + 2 * HOUR).toISOString(),
        ageSeconds: 3600,
        fromHosts: 0,
        fromTotal: 2,
        toHosts: 1,
        toTotal: 3,
        action: 'apply to upstream',
      },
    ]);
  });

  it('answers one pair for from and to, any two environments', async () => {
    await promotedFleet();
    const { status, body } = await api.get('/api/v1/promotion?from=dev&to=production');
    expect(status).toBe(200);
    expect(body.pairs).toHaveLength(1);
    expect(body.pairs[0]).toMatchObject({ from: 'dev', to: 'production', waiting: [] });
    // dev never had the curl hotfix either.
    expect(body.pairs[0].outOfOrder.map((item: { path: string }) => item.path)).toEqual(['library.dpkg.curl']);
  });

  it('cuts the lists at limit, with the totals in counts', async () => {
    await promotedFleet();
    await changeHost(api.aggregator.store, 'prod-2', T0 + 2 * HOUR, { 'runtime.python': '3.11.9' });
    const { body } = await api.get('/api/v1/promotion?from=staging&to=production&limit=1');
    expect(body.pairs[0].counts.outOfOrder).toBe(2);
    expect(body.pairs[0].outOfOrder).toHaveLength(1);
  });

  it('lists a change an exception covers as justified, not waiting', async () => {
    await promotedFleet();
    const created = await api.request('POST', '/api/v1/exceptions', {
      body: { path: 'library.openssl', environments: ['staging', 'production'], reason: 'waits for the freeze' },
    });
    const { body } = await api.get('/api/v1/promotion?from=staging&to=production');
    expect(body.pairs[0].waiting).toEqual([]);
    expect(body.pairs[0].justified).toEqual([
      {
        path: 'library.openssl',
        category: 'library',
        value: '3.0.14',
        toValue: '3.0.11',
        exception: { id: created.body.id, reason: 'waits for the freeze' },
      },
    ]);
  });

  it('without a promotion order answers no pairs and a note; a named pair still works', async () => {
    api = createTestApi();
    await addHost(api.aggregator.store, 'a-1', 'alpha', serverFacts('a-1'));
    await addHost(api.aggregator.store, 'b-1', 'beta', serverFacts('b-1'));
    const { status, body } = await api.get('/api/v1/promotion');
    expect(status).toBe(200);
    expect(body.pairs).toEqual([]);
    expect(body.note).toContain('promotion order is not configured');
    expect(body.note).toContain('promotion:');
    const named = await api.get('/api/v1/promotion?from=alpha&to=beta');
    expect(named.status).toBe(200);
    expect(named.body.pairs).toHaveLength(1);
    expect(named.body.note).toBeUndefined();
  });

  it('answers 400 naming the parameter: one side only, the same twice, bad names and limits, unknown ones', async () => {
    await promotedFleet();
    for (const [query, field] of [
      ['from=staging', '`to`'],
      ['to=production', '`from`'],
      ['from=staging&to=staging', '`to`'],
      ['from=no%20spaces&to=production', '`from`'],
      ['from=staging&to=production&limit=0', '`limit`'],
      ['from=staging&to=production&colour=red', 'colour'],
    ]) {
      const { status, body } = await api.get(`/api/v1/promotion?${query}`);
      expect(status, query).toBe(400);
      expect(body.error.code).toBe('INVALID_REQUEST');
      expect(body.error.message, query).toContain(field);
    }
  });

  it('answers 404 naming an unknown environment', async () => {
    await promotedFleet();
    for (const query of ['from=staging&to=prod', 'from=prod&to=staging']) {
      const { status, body } = await api.get(`/api/v1/promotion?${query}`);
      expect(status).toBe(404);
      expect(body.error.message).toContain('unknown environment "prod"');
    }
  });

  it('needs a token and is in the OpenAPI document', async () => {
    await promotedFleet();
    expect((await api.get('/api/v1/promotion', null)).status).toBe(401);
    const { body } = await api.get('/api/v1/openapi.json');
    const operation = body.paths['/api/v1/promotion'].get;
    expect(operation.operationId).toBe('promotion');
    expect(operation.parameters.map((p: { name: string }) => p.name)).toEqual(['from', 'to', 'limit']);
    expect(Object.keys(operation.responses)).toContain('404');
  });
});
