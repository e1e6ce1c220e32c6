import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApi, type TestApi } from '../../testing/test-api.js';

let api: TestApi;
beforeEach(() => {
  api = createTestApi();
});
afterEach(async () => {
  await api.aggregator.stop();
});

describe('/api/v1/tokens', () => {
  it('creates read and admin tokens, shows the clear token once, lists without it, revokes', async () => {
    const created = await api.request('POST', '/api/v1/tokens', { body: { name: 'grafana', scope: 'read' } });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.any(String),
      name: 'grafana',
      scope: 'read',
      token: expect.stringMatching(/^ept_[A-Za-z0-9_-]{43}$/),
      createdAt: new Date(api.clock.now).toISOString(),
    });
    const { token, id } = created.body;
    // The read token reads, and cannot administer.
    expect((await api.get('/api/v1/hosts', token)).status).toBe(200);
    expect((await api.get('/api/v1/tokens', token)).status).toBe(403);
    expect((await api.request('POST', '/api/v1/tokens', { token, body: { name: 'x', scope: 'admin' } })).status).toBe(
      403,
    );

    const createdAt = new Date(api.clock.now).toISOString();
    api.clock.now += 1000;
    const admin = await api.request('POST', '/api/v1/tokens', { body: { name: 'ci', scope: 'admin' } });
    expect((await api.get('/api/v1/tokens', admin.body.token)).status).toBe(200);

    const listed = await api.get('/api/v1/tokens');
    expect(listed.body.tokens).toEqual([
      { id, name: 'grafana', scope: 'read', createdAt, revokedAt: null },
      expect.objectContaining({ name: 'ci', scope: 'admin', revokedAt: null }),
    ]);
    expect(JSON.stringify(listed.body)).not.toContain(token);

    api.clock.now += 1000;
    const revoked = await api.request('DELETE', `/api/v1/tokens/${id}`);
    expect(revoked).toMatchObject({ status: 200, body: { id, revokedAt: new Date(api.clock.now).toISOString() } });
    expect((await api.get('/api/v1/hosts', token)).status).toBe(401);
    expect((await api.get('/api/v1/tokens')).body.tokens[0].revokedAt).toBe(new Date(api.clock.now).toISOString());
    // Revoking twice, or an unknown id: 404.
    expect((await api.request('DELETE', `/api/v1/tokens/${id}`)).status).toBe(404);
    expect((await api.request('DELETE', '/api/v1/tokens/nope')).status).toBe(404);
  });

  it('answers 400 naming the field, 401 without a token', async () => {
    for (const [body, field] of [
      [{ name: 'x', scope: 'write' }, 'scope'],
      [{ scope: 'read' }, 'name'],
      [{ name: '  ', scope: 'read' }, 'name'],
      [{ name: 'x', scope: 'read', expires: 1 }, 'expires'],
    ] as const) {
      const res = await api.request('POST', '/api/v1/tokens', { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.message).toContain(field);
    }
    expect(
      (await api.request('POST', '/api/v1/tokens', { token: null, body: { name: 'x', scope: 'read' } })).status,
    ).toBe(401);
    expect((await api.request('DELETE', '/api/v1/tokens/x', { token: 'wrong' })).status).toBe(401);
  });
});
