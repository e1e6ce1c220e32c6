/**
 * Secrets at rest: agent tokens, API tokens and the enroll secret are kept only as sha256 digests,
 * so a copy of the database (or a heap dump of the cache) never yields a usable credential.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Bytes of randomness in generated tokens and secrets (256 bits). */
export const TOKEN_BYTES = 32;

/** Hex sha256 of a token: what the store keeps and looks tokens up by. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A fresh random token, URL-safe so it fits headers, files and command lines unquoted. */
export function generateToken(bytes = TOKEN_BYTES): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * Constant-time check of a candidate against a stored sha256 hex digest. Both sides are hashed
 * to the same length first, so neither the content nor the length of the secret leaks by timing.
 */
export function tokenMatches(candidate: string, expectedHash: string): boolean {
  const actual = createHash('sha256').update(candidate, 'utf8').digest();
  const expected = Buffer.from(expectedHash, 'hex');
  return expected.length === actual.length && timingSafeEqual(actual, expected);
}
