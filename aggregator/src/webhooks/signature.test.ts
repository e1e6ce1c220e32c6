import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signWebhookPayload, verifyWebhookSignature } from './signature.js';

describe('webhook signatures', () => {
  const body = '{"id":"1","type":"drift.opened"}';
  const now = 1_780_000_000_000;
  const ts = String(now / 1000);

  it('signs "timestamp.body" with HMAC-SHA256, hex, prefixed sha256=', () => {
    const expected = createHmac('sha256', 'k').update(`${ts}.${body}`).digest('hex');
    expect(signWebhookPayload('k', ts, body)).toBe(`sha256=${expected}`);
    expect(signWebhookPayload('k', ts, Buffer.from(body))).toBe(`sha256=${expected}`);
  });

  it('verifies, refusing other secrets, bodies, timestamps and stale or malformed input', () => {
    const header = signWebhookPayload('k', ts, body);
    expect(verifyWebhookSignature('k', ts, body, header, { now })).toBe(true);
    expect(verifyWebhookSignature('k', ts, body, `sha256=${'0'.repeat(64)}, ${header}`, { now })).toBe(true);
    expect(verifyWebhookSignature('x', ts, body, header, { now })).toBe(false);
    expect(verifyWebhookSignature('k', ts, `${body} `, header, { now })).toBe(false);
    expect(verifyWebhookSignature('k', ts, body, header.toUpperCase(), { now })).toBe(false);
    expect(verifyWebhookSignature('k', ts, body, undefined, { now })).toBe(false);
    expect(verifyWebhookSignature('k', null, body, header, { now })).toBe(false);
    expect(verifyWebhookSignature('k', `${ts}.5`, body, header, { now })).toBe(false);
    // Five minutes of tolerance by default, configurable.
    expect(verifyWebhookSignature('k', ts, body, header, { now: now + 301_000 })).toBe(false);
    expect(verifyWebhookSignature('k', ts, body, header, { now: now + 301_000, toleranceSeconds: 600 })).toBe(true);
    expect(verifyWebhookSignature('k', ts, body, header, { now: now - 299_000 })).toBe(true);
  });
});
