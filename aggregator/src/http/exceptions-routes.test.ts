import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROMOTION, seedFleet } from '../../testing/drift-fleet.js';
import { createTestApi, type TestApi } from '../../testing/test-api.js';
import { hashToken } from '../token-hash.js';

let api: TestApi;
const READ = 'read-token';
const valid = {
  path: 'library.openssl',
  environments: ['staging', 'production'],
  reason: 'production upgrades after the freeze',
};

beforeEach(async () => {
  api = createTestApi({ promotion: PROMOTION });
  await seedFleet(api.aggregator.store);
  await api.aggregator.store.createApiToken({ name: 'dashboard', scope: 'read', tokenHash: hashToken(READ), at: 0 });
});
afterEach(async () => {
  await api.aggregator.stop();
});

describe('POST /api/v1/exceptions', () => {
  it('creates an exception (201) with every field, recording who created it', async () => {
    const expiresAt = new Date(api.clock.now + 86_400_000).toISOString();
    const { status, body } = await api.request('POST', '/api/v1/exceptions', {
      body: { ...valid, impact: 'older TLS ciphers in production', owner: 'platform', expiresAt },
    });
    expect(status).toBe(201);
    expect(body).toEqual({
      id: expect.any(String),
      ...valid,
      impact: 'older TLS ciphers in production',
      owner: 'platform',
      expiresAt,
      createdAt: new Date(api.clock.now).toISOString(),
      createdBy: 'bootstrap admin token',
      expired: false,
      source: 'api',
    });
    const listed = await api.get('/api/v1/exceptions', READ);
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual({ exceptions: [body] });
  });

  it('accepts one environment (differences inside it) and no expiry', async () => {
    const { status, body } = await api.request('POST', '/api/v1/exceptions', {
      body: { path: 'config.env.**', environments: ['production'], reason: 'per-host log levels', expiresAt: null },
    });
    expect(status).toBe(201);
    expect(body).toMatchObject({ environments: ['production'], expiresAt: null });
  });

  it('answers 400 naming the field for bad input', async () => {
    const past = new Date(api.clock.now - 1000).toISOString();
    const cases: [unknown, string, string][] = [
      [{ ...valid, reason: undefined }, 'reason', '`reason` is required: say why this difference is intended'],
      [{ ...valid, reason: '   ' }, 'reason', '`reason` must not be empty: say why this difference is intended'],
      [{ ...valid, path: 'library..openssl' }, 'path', 'path'],
      [{ ...valid, path: '' }, 'path', 'path'],
      [{ ...valid, environments: ['staging', 'prod'] }, 'environments', 'unknown environment "prod"'],
      [{ ...valid, environments: ['staging', 'staging'] }, 'environments', 'must differ'],
      [{ ...valid, environments: ['dev', 'staging', 'production'] }, 'environments', 'environments'],
      [{ ...valid, environments: [] }, 'environments', 'environments'],
      [{ ...valid, expiresAt: past }, 'expiresAt', 'must be in the future'],
      [{ ...valid, expiresAt: 'tomorrow' }, 'expiresAt', 'must be an ISO 8601 time such as 2026-01-31T12:00:00Z'],
      [{ ...valid, severity: 'high' }, 'severity', '`severity` is not a known field (known: path, environments'],
    ];
    for (const [body, field, text] of cases) {
      const res = await api.request('POST', '/api/v1/exceptions', { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('INVALID_REQUEST');
      expect(res.body.error.message, JSON.stringify(body)).toContain(field);
      expect(res.body.error.message, JSON.stringify(body)).toContain(text);
    }
    const notJson = await api.request('POST', '/api/v1/exceptions', { body: '{"path":' });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.message).toContain('body');
    expect((await api.get('/api/v1/exceptions')).body.exceptions).toEqual([]);
  });

  it('needs the admin scope (403 for read tokens, 401 without a token)', async () => {
    const read = await api.request('POST', '/api/v1/exceptions', { token: READ, body: valid });
    expect(read.status).toBe(403);
    expect(read.body.error).toEqual({ code: 'FORBIDDEN', message: 'this route needs a token with the admin scope' });
    expect((await api.request('POST', '/api/v1/exceptions', { token: null, body: valid })).status).toBe(401);
  });
});

describe('GET /api/v1/exceptions', () => {
  it('lists expired exceptions with expired: true', async () => {
    const created = await api.request('POST', '/api/v1/exceptions', {
      body: { ...valid, expiresAt: new Date(api.clock.now + 1000).toISOString() },
    });
    api.clock.now += 1000;
    const { body } = await api.get('/api/v1/exceptions', READ);
    expect(body.exceptions).toEqual([expect.objectContaining({ id: created.body.id, expired: true })]);
  });

  it('needs a token', async () => {
    expect((await api.get('/api/v1/exceptions', null)).status).toBe(401);
  });
});

describe('DELETE /api/v1/exceptions/:id', () => {
  it('deletes (admin), after which the difference is drift again', async () => {
    const created = await api.request('POST', '/api/v1/exceptions', { body: valid });
    expect((await api.get('/api/v1/compare?from=staging&to=production')).body.parity).toBe(1);
    expect((await api.request('DELETE', `/api/v1/exceptions/${created.body.id}`, { token: READ })).status).toBe(403);
    const deleted = await api.request('DELETE', `/api/v1/exceptions/${created.body.id}`);
    expect(deleted).toMatchObject({ status: 200, body: { id: created.body.id, deleted: true } });
    expect((await api.get('/api/v1/compare?from=staging&to=production')).body.parity).toBeLessThan(1);
    await api.aggregator.drift.settle();
    const open = await api.get('/api/v1/drift?status=open&environment=staging&kind=environment');
    expect(
      open.body.events.map((e: { path: string; otherEnvironment: string }) => `${e.otherEnvironment}:${e.path}`),
    ).toContain('production:library.openssl');
  });

  it('answers 404 for an unknown exception', async () => {
    const { status, body } = await api.request('DELETE', '/api/v1/exceptions/nope');
    expect(status).toBe(404);
    expect(body.error.message).toContain('"nope"');
  });
});
