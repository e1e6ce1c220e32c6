/**
 * Bootstrap credentials of a fresh install: the enroll secret (agents present it once to get a
 * token), the bootstrap admin API token and the fleet key (HMAC key for secret values, handed to
 * agents at enrollment). Each comes from its env var, else from a file in the data dir, else is
 * generated into that file with mode 0600 — and only the file's path is ever printed.
 */
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { generateToken } from './token-hash.js';

export const SECRET_FILES = {
  enrollSecret: 'enroll-secret',
  adminToken: 'admin-token',
  fleetKey: 'fleet.key',
} as const;

export const SECRET_ENV_VARS = {
  enrollSecret: 'ENVPARITY_ENROLL_SECRET',
  adminToken: 'ENVPARITY_ADMIN_TOKEN',
  fleetKey: 'ENVPARITY_FLEET_KEY',
} as const;

export type SecretName = keyof typeof SECRET_FILES;
export type SecretSource = 'env' | 'file' | 'generated';

export interface ResolvedSecret {
  value: string;
  source: SecretSource;
  /** The file it was read from or written to (absent when it came from the environment). */
  path?: string;
}

export type BootstrapSecrets = Record<SecretName, ResolvedSecret>;

const DESCRIPTIONS: Record<SecretName, string> = {
  enrollSecret: 'enroll secret',
  adminToken: 'admin token',
  fleetKey: 'fleet key',
};

/** Creates the data dir (mode 0700: it holds the secret files and the database). */
export async function ensureDataDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
}

async function readSecretFile(path: string): Promise<string | undefined> {
  try {
    const value = (await readFile(path, 'utf8')).trim();
    return value === '' ? undefined : value;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** One secret: env var, else file, else a generated one written to the file (0600). */
export async function resolveSecret(
  name: SecretName,
  dataDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ResolvedSecret> {
  const fromEnv = env[SECRET_ENV_VARS[name]]?.trim();
  if (fromEnv) return { value: fromEnv, source: 'env' };
  const path = join(dataDir, SECRET_FILES[name]);
  const fromFile = await readSecretFile(path);
  if (fromFile) {
    const mode = (await stat(path)).mode & 0o777;
    if ((mode & 0o077) !== 0) await chmod(path, 0o600);
    return { value: fromFile, source: 'file', path };
  }
  const value = generateToken();
  await writeFile(path, `${value}\n`, { mode: 0o600 });
  await chmod(path, 0o600); // the umask may have taken bits away, never added: this pins it
  return { value, source: 'generated', path };
}

/** All bootstrap secrets, logging where each came from (never the value). */
export async function resolveBootstrapSecrets(
  dataDir: string,
  { env = process.env, logger }: { env?: NodeJS.ProcessEnv; logger?: Logger } = {},
): Promise<BootstrapSecrets> {
  const secrets = {} as BootstrapSecrets;
  for (const name of Object.keys(SECRET_FILES) as SecretName[]) {
    const secret = await resolveSecret(name, dataDir, env);
    secrets[name] = secret;
    const what = DESCRIPTIONS[name];
    if (secret.source === 'env') logger?.info({ env: SECRET_ENV_VARS[name] }, `${what} from the environment`);
    else if (secret.source === 'file') logger?.info({ path: secret.path }, `${what} read from file`);
    else logger?.info({ path: secret.path, env: SECRET_ENV_VARS[name] }, `generated ${what} (mode 0600)`);
  }
  return secrets;
}
