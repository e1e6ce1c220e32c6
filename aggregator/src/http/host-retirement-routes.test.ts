import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addHost, PROMOTION, seedFleet, serverFacts, T0 } from '../../testing/drift-fleet.js';
import { ADMIN_TOKEN, createTestApi, type TestApi } from '../../testing/test-api.js';
import { hashToken } from '../token-hash.js';

let api: TestApi;
const READ = 'read-token';
const VERIFY = 'verify-token';
beforeEach(async () => {
  api = createTestApi({ promotion: PROMOTION, fleetKey: 'fleet-key-for-tests' });
  await seedFleet(api.aggregator.store);
  await api.aggregator.store.createApiToken({ name: 'reader', scope: 'read', tokenHash: hashToken(READ), at: 0 });
  await api.aggregator.store.createApiToken({ name: 'ci', scope: 'verify', tokenHash: hashToken(VERIFY), at: 0 });
});
afterEach(async () => {
  await api.aggregator.stop();
});

const production = async () =>
  (await api.get('/api/v1/environments')).body.find((env: { name: string }) => env.name === 'production');

describe('DELETE /api/v1/hosts/:id', () => {
  it('retires a host: out of the host list, environment counts and baseline; still readable with retiredAt', async () => {
    // A runner enrolled into production by mistake, with facts unlike the others.
    await addHost(
      api.aggregator.store,
      'ci-runner',
      'production',
      serverFacts('ci-runner', { 'runtime.node': '22.1.0' }),
    );
    await api.aggregator.drift.settle();
    expect((await production()).hosts).toBe(4);

    api.clock.now = T0 + 60_000;
    const res = await api.request('DELETE', '/api/v1/hosts/ci-runner');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: 'ci-runner',
      retired: true,
      retiredAt: new Date(T0 + 60_000).toISOString(),
      environment: 'production',
      tokenRevoked: true,
    });
    await api.aggregator.drift.settle();

    const hosts = (await api.get('/api/v1/hosts')).body.hosts.map((host: { id: string }) => host.id);
    expect(hosts).not.toContain('ci-runner');
    expect(hosts).toHaveLength(6);
    expect((await api.get('/api/v1/hosts?environment=production')).body.hosts).toHaveLength(3);
    expect((await production()).hosts).toBe(3);
    const baseline = await api.get('/api/v1/environments/production/baseline');
    expect(baseline.body.hosts).toBe(3);

    const detail = await api.get('/api/v1/hosts/ci-runner');
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({
      id: 'ci-runner',
      environment: 'production',
      retiredAt: new Date(T0 + 60_000).toISOString(),
      retiredBy: 'bootstrap admin token',
      facts: { 'runtime.node': '22.1.0' },
    });
    expect((await api.get('/api/v1/hosts/prod-1')).body.retiredAt).toBeNull();
    // The agent token no longer maps to a current host: the ingest refuses it (see agent-gateway tests).
    expect(api.aggregator.store.getHost('ci-runner')?.retiredAt).toBe(T0 + 60_000);
  });

  it('answers 404 for an unknown host, 409 when already retired, 403 to read and verify tokens', async () => {
    const unknown = await api.request('DELETE', '/api/v1/hosts/nope');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toBe('unknown host "nope"');
    for (const token of [READ, VERIFY]) {
      expect((await api.request('DELETE', '/api/v1/hosts/prod-3', { token })).status).toBe(403);
    }
    expect((await api.request('DELETE', '/api/v1/hosts/prod-3')).status).toBe(200);
    const again = await api.request('DELETE', '/api/v1/hosts/prod-3');
    expect(again.status).toBe(409);
    expect(again.body.error).toEqual({
      code: 'CONFLICT',
      message: `host "prod-3" is already retired (since ${new Date(T0).toISOString()})`,
    });
  });
});

describe('GET /api/v1/fleet-key', () => {
  it('answers the fleet key to verify and admin tokens, 403 to read tokens', async () => {
    const res = await api.get('/api/v1/fleet-key', VERIFY);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ fleetKey: 'fleet-key-for-tests' });
    expect((await api.get('/api/v1/fleet-key', ADMIN_TOKEN)).body).toEqual({ fleetKey: 'fleet-key-for-tests' });
    const read = await api.get('/api/v1/fleet-key', READ);
    expect(read.status).toBe(403);
    expect(read.body.error.message).toContain('verify');
    expect((await api.get('/api/v1/fleet-key', null)).status).toBe(401);
  });

  it('registers nothing: GET /api/v1/hosts and the environments are unchanged after it', async () => {
    await api.aggregator.drift.settle();
    const hostsBefore = await api.get('/api/v1/hosts');
    const environmentsBefore = await api.get('/api/v1/environments');
    for (let i = 0; i < 3; i++) expect((await api.get('/api/v1/fleet-key', VERIFY)).status).toBe(200);
    await api.aggregator.drift.settle();
    expect(await api.get('/api/v1/hosts')).toEqual(hostsBefore);
    expect(await api.get('/api/v1/environments')).toEqual(environmentsBefore);
    expect(api.aggregator.store.listHosts()).toHaveLength(6);
  });

  it('a verify token reads like a read token (baselines, exceptions) but manages nothing', async () => {
    expect((await api.get('/api/v1/environments/staging/baseline', VERIFY)).status).toBe(200);
    expect((await api.get('/api/v1/exceptions', VERIFY)).status).toBe(200);
    expect((await api.get('/api/v1/tokens', VERIFY)).status).toBe(403);
  });
});

describe('POST /api/v1/tokens with scope verify', () => {
  it('creates a verify token that can fetch the fleet key', async () => {
    const created = await api.request('POST', '/api/v1/tokens', { body: { name: 'ci-deploy', scope: 'verify' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'ci-deploy', scope: 'verify' });
    expect((await api.get('/api/v1/fleet-key', created.body.token)).status).toBe(200);
    const listed = (await api.get('/api/v1/tokens')).body.tokens.find((t: { id: string }) => t.id === created.body.id);
    expect(listed.scope).toBe('verify');
  });

  it('explains a bad scope in words, with the choices', async () => {
    const res = await api.request('POST', '/api/v1/tokens', { body: { name: 'x', scope: 'write' } });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toBe(
      'invalid body: `scope` must be one of "read", "verify", "admin", not the text "write": choose "read" ' +
        '(queries), "verify" (queries and the fleet key, for envparity-agent verify on a CI runner) or "admin" (everything)',
    );
    const noName = await api.request('POST', '/api/v1/tokens', { body: { scope: 'read' } });
    expect(noName.body.error.message).toBe(
      'invalid body: `name` is required: name the token after who or what uses it, e.g. "ci-deploy"',
    );
  });
});
