import { createHmac } from 'node:crypto';
import { matchAnyName, SECRET_HASH_PREFIX } from '@envparity/shared';

/** Prefix of every hashed secret (shared, so the aggregator's compare recognizes the same hashes). */
export { SECRET_HASH_PREFIX };

/**
 * Replaces secret values by a keyed hash (HMAC-SHA256 with the fleet key), so that two hosts holding
 * the same secret compare equal while the clear value never leaves the host.
 */
export interface SecretHasher {
  /** True when a variable or config key name matches one of the `secrets` globs (case-insensitive). */
  isSecretName(name: string): boolean;
  /** The keyed hash of a value. */
  hash(value: string): string;
  /** `hash(value)` when `name` is secret, else the value unchanged. */
  protect<T>(name: string, value: T): T | string;
}

export function createSecretHasher(fleetKey: Buffer | string, globs: readonly string[]): SecretHasher {
  const hash = (value: string) =>
    `${SECRET_HASH_PREFIX}${createHmac('sha256', fleetKey).update(value, 'utf8').digest('hex')}`;
  const isSecretName = (name: string) => matchAnyName(globs, name, true);
  return {
    isSecretName,
    hash,
    protect(name, value) {
      if (!isSecretName(name)) return value;
      return hash(typeof value === 'string' ? value : JSON.stringify(value));
    },
  };
}
