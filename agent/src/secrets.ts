import { createHmac } from 'node:crypto';
import { matchAnyName } from '@envparity/shared';

/** Prefix of every hashed secret, so a reader knows the value is a keyed hash and not the secret. */
export const SECRET_HASH_PREFIX = 'hmac-sha256:';

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
