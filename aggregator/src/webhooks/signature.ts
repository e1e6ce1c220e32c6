/**
 * Webhook signatures. The aggregator signs `${timestamp}.${body}` (the timestamp header's exact text,
 * a dot, then the exact body bytes) with HMAC-SHA256 keyed by the webhook's secret, and sends the hex
 * digest as `x-envparity-signature: sha256=<hex>`. Binding the timestamp into the signed content lets
 * a receiver refuse replays of an old delivery, which a signature over the body alone cannot do.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const WEBHOOK_SIGNATURE_HEADER = 'x-envparity-signature';
export const WEBHOOK_TIMESTAMP_HEADER = 'x-envparity-timestamp';
export const WEBHOOK_SIGNATURE_PREFIX = 'sha256=';
/** How old (or how far in the future) a signed timestamp may be before verification refuses it. */
export const DEFAULT_WEBHOOK_SIGNATURE_TOLERANCE_SECONDS = 300;

export type WebhookSignedBody = string | Uint8Array;

function signedContent(timestamp: string, body: WebhookSignedBody): Buffer {
  const bodyBytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
  return Buffer.concat([Buffer.from(`${timestamp}.`, 'utf8'), bodyBytes]);
}

/**
 * The `x-envparity-signature` value for one delivery attempt: `sha256=` + hex HMAC-SHA256 of
 * `${timestamp}.${body}` with `secret`.
 */
export function signWebhookPayload(secret: string, timestamp: string, body: WebhookSignedBody): string {
  return WEBHOOK_SIGNATURE_PREFIX + createHmac('sha256', secret).update(signedContent(timestamp, body)).digest('hex');
}

export interface VerifyWebhookSignatureOptions {
  /** Maximum age (and clock skew) of the timestamp; `Infinity` turns the replay check off. */
  toleranceSeconds?: number;
  /** Current time in ms (tests). */
  now?: number;
}

/**
 * For receivers: true when `header` (the `x-envparity-signature` value) is the signature of the raw
 * request `body` and the `x-envparity-timestamp` value `timestamp` under `secret`, and the timestamp
 * is within `toleranceSeconds` of now. Pass the body exactly as received (the raw bytes or their
 * UTF-8 text), never a re-serialized JSON object. The comparison is constant-time. Several
 * comma-separated `sha256=` values are accepted (any one matching is enough), for key rotation.
 */
export function verifyWebhookSignature(
  secret: string,
  timestamp: string | null | undefined,
  body: WebhookSignedBody,
  header: string | null | undefined,
  {
    toleranceSeconds = DEFAULT_WEBHOOK_SIGNATURE_TOLERANCE_SECONDS,
    now = Date.now(),
  }: VerifyWebhookSignatureOptions = {},
): boolean {
  if (!secret || !timestamp || !header || !/^\d{1,15}$/.test(timestamp)) return false;
  if (Math.abs(now / 1000 - Number(timestamp)) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhookPayload(secret, timestamp, body), 'utf8');
  let ok = false;
  for (const candidate of header.split(',')) {
    const given = Buffer.from(candidate.trim(), 'utf8');
    // Keep looping after a match so the time taken does not depend on which value matched.
    if (given.length === expected.length && timingSafeEqual(given, expected)) ok = true;
  }
  return ok;
}
