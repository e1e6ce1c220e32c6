import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApi, type TestApi } from '../../testing/test-api.js';
import { hashToken } from '../token-hash.js';

let api: TestApi;
const READ = 'read-token';
const VERIFY = 'verify-token';
beforeEach(async () => {
  api = createTestApi();
  await api.aggregator.store.createApiToken({ name: 'reader', scope: 'read', tokenHash: hashToken(READ), at: 0 });
});
afterEach(async () => {
  await api.aggregator.stop();
});

/** A concrete URL for a registered path (parameters filled in). */
const concrete = (path: string) => path.replace(/:[A-Za-z0-9_]+/g, 'x');

describe('route registry', () => {
  it('every protected route answers 401 without a valid token', async () => {
    for (const route of api.aggregator.routes.routes.filter((r) => r.auth !== 'none')) {
      for (const token of [null, 'wrong']) {
        const body = route.method === 'get' ? undefined : {};
        const res = await api.request(route.method.toUpperCase(), concrete(route.path), { token, body });
        expect(res.status, `${route.method} ${route.path}`).toBe(401);
        expect(res.body.error.code).toBe('UNAUTHORIZED');
      }
    }
  });

  it('every admin route answers 403 to a read or verify token, before looking at the input', async () => {
    await api.aggregator.store.createApiToken({ name: 'ci', scope: 'verify', tokenHash: hashToken(VERIFY), at: 0 });
    const admin = api.aggregator.routes.routes.filter((r) => r.auth === 'admin');
    expect(admin.map((r) => `${r.method} ${r.path}`).sort()).toEqual(
      expect.arrayContaining([
        'delete /api/v1/exceptions/:id',
        'delete /api/v1/hosts/:id',
        'delete /api/v1/tokens/:id',
        'get /api/v1/tokens',
        'post /api/v1/exceptions',
        'post /api/v1/tokens',
      ]),
    );
    expect(admin.map((r) => r.path)).not.toContain('/api/v1/fleet-key');
    for (const route of admin) {
      for (const token of [READ, VERIFY]) {
        const body = route.method === 'get' ? undefined : 'not json';
        const res = await api.request(route.method.toUpperCase(), concrete(route.path), { token, body });
        expect(res.status, `${route.method} ${route.path}`).toBe(403);
        expect(res.body.error.code).toBe('FORBIDDEN');
      }
    }
  });

  it('verify routes answer 403 to a read token and 200 to verify and admin tokens', async () => {
    await api.aggregator.store.createApiToken({ name: 'ci', scope: 'verify', tokenHash: hashToken(VERIFY), at: 0 });
    const verify = api.aggregator.routes.routes.filter((r) => r.auth === 'verify');
    expect(verify.map((r) => `${r.method} ${r.path}`)).toEqual(['get /api/v1/fleet-key']);
    const refused = await api.get('/api/v1/fleet-key', READ);
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toContain('verify');
    expect((await api.get('/api/v1/fleet-key', VERIFY)).status).toBe(200);
    expect((await api.get('/api/v1/fleet-key')).status).toBe(200);
    // verify includes read.
    expect((await api.get('/api/v1/environments', VERIFY)).status).toBe(200);
  });

  it('read routes accept a read token', async () => {
    for (const path of ['/api/v1/environments', '/api/v1/drift', '/api/v1/exceptions', '/api/v1/hosts']) {
      expect((await api.get(path, READ)).status, path).toBe(200);
    }
  });

  it('refuses unknown query parameters on API routes, ignores them on probes', async () => {
    const res = await api.get('/api/v1/environments?verbose=1');
    expect(res.status).toBe(400);
    expect(res.body.error.message).toBe(
      'invalid query: `verbose` is not a known query parameter (this route takes none)',
    );
    const hosts = await api.get('/api/v1/hosts?enviroment=prod');
    expect(hosts.body.error.message).toBe(
      'invalid query: `enviroment` is not a known query parameter (known: environment, fact, value)',
    );
    expect((await api.get('/healthz?nocache=123', null)).status).toBe(200);
  });

  it('answers a body that is not JSON with 400 naming the body', async () => {
    const res = await api.request('POST', '/api/v1/tokens', { body: 'name=x' });
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({
      code: 'INVALID_REQUEST',
      message: 'invalid body: expected a JSON object (send Content-Type: application/json and a JSON body)',
    });
  });

  it('answers unknown methods and paths with a JSON 404', async () => {
    expect((await api.request('PUT', '/api/v1/exceptions')).status).toBe(404);
    expect((await api.get('/api/v1/environments/x/y')).status).toBe(404);
  });
});
