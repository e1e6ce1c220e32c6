import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROMOTION, seedFleet } from '../../testing/drift-fleet.js';
import { createTestApi, type TestApi } from '../../testing/test-api.js';

let api: TestApi;
beforeEach(async () => {
  api = createTestApi({ promotion: PROMOTION });
  await seedFleet(api.aggregator.store);
  await api.aggregator.store.enrollHost({
    hostId: 'new-1',
    tokenHash: 'h-new-1',
    environment: 'production',
    labels: {},
    agentVersion: '0.1.0',
    at: api.clock.now,
  });
});
afterEach(async () => {
  await api.aggregator.stop();
});

describe('GET /api/v1/facts/distribution', () => {
  it('counts hosts per value across the fleet, most common first', async () => {
    const { status, body } = await api.get('/api/v1/facts/distribution?path=library.openssl');
    expect(status).toBe(200);
    expect(body).toEqual({
      path: 'library.openssl',
      hosts: 6,
      missing: 0,
      values: [
        { value: '3.0.11', hosts: 3 },
        { value: '3.0.13', hosts: 2 },
        { value: '3.0.14', hosts: 1 },
      ],
    });
  });

  it('narrows to one environment, counts hosts lacking the path, and handles array values', async () => {
    const env = await api.get('/api/v1/facts/distribution?path=config.env.LOG_LEVEL&environment=production');
    expect(env.body).toEqual({
      path: 'config.env.LOG_LEVEL',
      environment: 'production',
      hosts: 3,
      missing: 0,
      values: [
        { value: 'info', hosts: 2 },
        { value: 'warn', hosts: 1 },
      ],
    });
    const absent = await api.get('/api/v1/facts/distribution?path=config.env.NOPE');
    expect(absent.body).toMatchObject({ hosts: 6, missing: 6, values: [] });
    const array = await api.get('/api/v1/facts/distribution?path=network.dns.servers');
    expect(array.body.values).toEqual([{ value: ['10.0.0.2', '10.0.0.3'], hosts: 6 }]);
  });

  it('answers 400 for a bad path or missing path, 404 for an unknown environment', async () => {
    for (const [query, field] of [
      ['', 'path'],
      ['path=..bad', 'path'],
      ['path=os.release&env=dev', 'env'],
    ]) {
      const { status, body } = await api.get(`/api/v1/facts/distribution?${query}`);
      expect(status).toBe(400);
      expect(body.error.message).toContain(field);
    }
    expect((await api.get('/api/v1/facts/distribution?path=os.release&environment=qa')).status).toBe(404);
  });
});

describe('GET /api/v1/hosts?fact=P&value=V', () => {
  it('lists the hosts holding a value', async () => {
    const { body } = await api.get('/api/v1/hosts?fact=library.openssl&value=3.0.13');
    expect(body.hosts.map((h: { id: string }) => h.id)).toEqual(['stg-1', 'stg-2']);
    const numbers = await api.get('/api/v1/hosts?fact=hardware.cpu.cores&value=16&environment=production');
    expect(numbers.body.hosts.map((h: { id: string }) => h.id)).toEqual(['prod-1', 'prod-2', 'prod-3']);
  });
});
