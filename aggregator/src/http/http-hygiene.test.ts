import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, createTestApi } from '../../testing/test-api.js';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const exceptionBody = JSON.stringify({
  path: 'config.env.LOG_LEVEL',
  environments: ['staging', 'production'],
  reason: 'verbose logs in staging',
});

describe('HTTP hygiene', () => {
  const { aggregator } = createTestApi({ environments: ['staging', 'production'] });
  const app = aggregator.app;

  it('puts nosniff, referrer and no-store headers on API answers, errors included', async () => {
    for (const [path, headers] of [
      ['/api/v1/environments', auth],
      ['/api/v1/environments', {}],
      ['/api/v1/nope', auth],
    ] as const) {
      const res = await app.request(path, { headers });
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('content-security-policy')).toBe(
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
      );
    }
    const metrics = await app.request('/metrics');
    expect(metrics.headers.get('cache-control')).toBe('no-store');
    const health = await app.request('/healthz');
    expect(health.headers.get('x-content-type-options')).toBe('nosniff');
    expect(health.headers.get('cache-control')).toBeNull();
  });

  it('refuses a body that is not JSON with 415 and a message, and accepts JSON with parameters', async () => {
    const wrong = await app.request('/api/v1/exceptions', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/plain' },
      body: exceptionBody,
    });
    expect(wrong.status).toBe(415);
    expect(wrong.headers.get('x-content-type-options')).toBe('nosniff');
    expect(wrong.headers.get('cache-control')).toBe('no-store');
    const { error } = (await wrong.json()) as { error: { code: string; message: string } };
    expect(error).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    expect(error.message).toContain('application/json');
    const missing = await app.request('/api/v1/exceptions', { method: 'POST', headers: auth, body: exceptionBody });
    // fetch gives a string body text/plain: the type must be declared as JSON.
    expect(missing.status).toBe(415);
    const vendor = await app.request('/api/v1/exceptions', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ path: 'config.env.A', environments: ['staging', 'production'], reason: 'r' }),
    });
    expect(vendor.status, await vendor.clone().text()).toBe(201);
    const right = await app.request('/api/v1/exceptions', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json; charset=utf-8' },
      body: exceptionBody,
    });
    expect(right.status, await right.clone().text()).toBe(201);
  });

  it('refuses a body over the limit with 413 before any route reads it', async () => {
    const small = createTestApi({ http: { maxBodyBytes: 2048 } }).aggregator.app;
    const res = await small.request('/api/v1/exceptions', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', 'content-length': '4096' },
      body: JSON.stringify({ reason: 'x'.repeat(4000) }),
    });
    expect(res.status).toBe(413);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(error.message).toContain('at most 2048 bytes');
    // A streamed body without content-length is counted as it arrives.
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 8; i++) controller.enqueue(new Uint8Array(1024).fill(0x61));
        controller.close();
      },
    });
    const streamed = await small.request('/api/v1/exceptions', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: chunks,
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
  });

  it('leaves bodiless POSTs (rotate-token, approve) and GETs alone', async () => {
    const res = await app.request('/api/v1/hosts/nope/rotate-token', { method: 'POST', headers: auth });
    expect(res.status).not.toBe(415);
    expect(res.status).not.toBe(413);
  });
});
