import { afterEach, describe, expect, it } from 'vitest';
import { addHost, serverFacts, T0 } from '../../testing/drift-fleet.js';
import { createTestApi, type TestApi } from '../../testing/test-api.js';

const apis: TestApi[] = [];
afterEach(async () => {
  for (const api of apis.splice(0)) await api.aggregator.stop();
});
function testApi(options: Parameters<typeof createTestApi>[0]): TestApi {
  const api = createTestApi(options);
  apis.push(api);
  return api;
}

describe('environments declared in the config', () => {
  it('are listed with 0 hosts before any host reports, promotion order first', async () => {
    const api = testApi({ promotion: ['staging', 'production'], environments: ['staging', 'production', 'perf'] });
    const { status, body } = await api.get('/api/v1/environments');
    expect(status).toBe(200);
    expect(body.map((env: { name: string; hosts: number }) => [env.name, env.hosts])).toEqual([
      ['staging', 0],
      ['production', 0],
      ['perf', 0],
    ]);
    expect(body[2]).toMatchObject({ online: 0, fingerprint: null, openDrift: 0, upstream: null });
    expect((await api.get('/api/v1/environments/perf/baseline')).status).toBe(200);
    expect((await api.get('/api/v1/environments/qa/baseline')).status).toBe(404);
  });

  it('accept exceptions before any host reports (exceptions as code), and unknown ones are still refused', async () => {
    const api = testApi({ environments: ['staging', 'production'] });
    const created = await api.request('POST', '/api/v1/exceptions', {
      body: {
        path: 'config.env.LOG_LEVEL',
        environments: ['staging', 'production'],
        reason: 'verbose logs in staging',
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.source).toBe('api');
    const refused = await api.request('POST', '/api/v1/exceptions', {
      body: { path: 'config.env.LOG_LEVEL', environments: ['staging', 'prod'], reason: 'typo' },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toBe(
      'invalid body: `environments[1]`: unknown environment "prod": no host has reported it and the aggregator ' +
        'config does not declare it (`environments:`); known: production, staging',
    );

    // The exception applies once hosts arrive.
    await addHost(api.aggregator.store, 'stg-1', 'staging', serverFacts('stg-1', { 'config.env.LOG_LEVEL': 'debug' }));
    await addHost(api.aggregator.store, 'prod-1', 'production', serverFacts('prod-1'));
    const compare = await api.get('/api/v1/compare?from=staging&to=production');
    expect(compare.body.differences).toContainEqual(
      expect.objectContaining({ path: 'config.env.LOG_LEVEL', status: 'justified' }),
    );
  });
});

describe('file exceptions through the API', () => {
  it('are listed with their source and cannot be deleted through the API (409)', async () => {
    const api = testApi({ environments: ['staging', 'production'] });
    await api.aggregator.store.replaceFileExceptions('file:/etc/envparity/exceptions.yaml', [
      {
        id: 'staging-logs',
        path: 'config.env.LOG_LEVEL',
        environments: ['staging', 'production'],
        reason: 'verbose logs in staging',
        expiresAt: null,
        createdAt: T0,
      },
    ]);
    const list = await api.get('/api/v1/exceptions');
    expect(list.body.exceptions).toEqual([
      expect.objectContaining({ id: 'staging-logs', source: 'file:/etc/envparity/exceptions.yaml' }),
    ]);
    const deleted = await api.request('DELETE', '/api/v1/exceptions/staging-logs');
    expect(deleted.status).toBe(409);
    expect(deleted.body.error).toEqual({
      code: 'CONFLICT',
      message:
        'exception "staging-logs" comes from the exceptions file (/etc/envparity/exceptions.yaml): remove it there ' +
        'and reload the aggregator (SIGHUP); the API deletes only exceptions it created',
    });
    expect((await api.get('/api/v1/exceptions')).body.exceptions).toHaveLength(1);
  });
});
