/**
 * Watched environment variables (`watch.envVars` name globs, case-sensitive like the variables)
 * -> `config.env.<NAME>`. Names matching the `secrets` globs (case-insensitive) carry the keyed
 * hash of the value instead of the value.
 */
import { type FactMap, factPath, matchAnyName } from '@envparity/shared';
import type { SecretHasher } from '../secrets.js';
import { toScalar } from './config-flatten.js';

export function collectEnvFacts(env: NodeJS.ProcessEnv, globs: readonly string[], secrets: SecretHasher): FactMap {
  const facts: FactMap = {};
  if (globs.length === 0) return facts;
  for (const name of Object.keys(env).sort()) {
    const value = env[name];
    if (value === undefined || !matchAnyName(globs, name)) continue;
    // toScalar caps long values (sha256:<hex>); secrets are hashed from the clear value first.
    facts[factPath('config', 'env', name)] = secrets.isSecretName(name) ? secrets.hash(value) : (toScalar(value) ?? '');
  }
  return facts;
}
