/**
 * Watched environment variables (`watch.envVars` name globs, case-sensitive like the variables)
 * -> `config.env.<NAME>` for the agent's own environment, `process.<name>.env.<NAME>` for a watched
 * process and `config.envFile[<path>].<NAME>` for an env file. Names matching the `secrets` globs
 * (case-insensitive) carry the keyed hash of the value instead of the value.
 */
import { type FactMap, factPath, matchAnyName } from '@envparity/shared';
import type { SecretHasher } from '../secrets.js';
import { toScalar } from './config-flatten.js';

/**
 * The variables of `env` whose names match `globs` (all of them when `globs` is undefined), each
 * under `prefix` + its name, secrets hashed from the clear value.
 */
export function envVarFacts(
  env: Readonly<Record<string, string | undefined>>,
  globs: readonly string[] | undefined,
  secrets: SecretHasher,
  prefix: readonly string[],
): FactMap {
  const facts: FactMap = {};
  if (globs !== undefined && globs.length === 0) return facts;
  for (const name of Object.keys(env).sort()) {
    const value = env[name];
    if (value === undefined || (globs !== undefined && !matchAnyName(globs, name))) continue;
    // toScalar caps long values (sha256:<hex>); secrets are hashed from the clear value first.
    facts[factPath(...prefix, name)] = secrets.isSecretName(name) ? secrets.hash(value) : (toScalar(value) ?? '');
  }
  return facts;
}

export function collectEnvFacts(env: NodeJS.ProcessEnv, globs: readonly string[], secrets: SecretHasher): FactMap {
  return envVarFacts(env, globs, secrets, ['config', 'env']);
}
