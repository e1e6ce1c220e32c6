import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where root keeps agent state (token, fleet key, spool); shared by `run`, `collect`, `verify` and `baseline`. */
export const DEFAULT_ROOT_STATE_DIR = '/var/lib/envparity';

/**
 * The state dir every agent command uses unless told otherwise: `ENVPARITY_STATE_DIR`, else
 * /var/lib/envparity for root, else $XDG_STATE_HOME/envparity (~/.local/state/envparity).
 */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ENVPARITY_STATE_DIR) return env.ENVPARITY_STATE_DIR;
  if (process.getuid?.() === 0) return DEFAULT_ROOT_STATE_DIR;
  return join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'envparity');
}

export const STATE_FILES = {
  /** Agent token from enrollment (mode 0600). */
  token: 'agent-token',
  /** Fleet key from enrollment: secrets hash with it so they compare across hosts (mode 0600). */
  fleetKey: 'fleet.key',
  /** Local key for `collect` before enrollment (mode 0600). */
  localKey: 'local.key',
} as const;

export async function ensureStateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Writes a secret file with mode 0600. */
export async function writeSecretFile(path: string, content: string): Promise<void> {
  await writeFile(path, `${content}\n`, { mode: 0o600 });
}

export async function readFleetKey(stateDir: string): Promise<string | undefined> {
  return readOptional(join(stateDir, STATE_FILES.fleetKey));
}

/**
 * The key secrets are hashed with: the fleet key when this host has enrolled, else a local key
 * created on first use (so hashes stay stable on this host, but compare only locally).
 */
export async function loadHashKey(stateDir: string): Promise<{ key: string; source: 'fleet' | 'local' }> {
  const fleet = await readFleetKey(stateDir);
  if (fleet) return { key: fleet, source: 'fleet' };
  const localPath = join(stateDir, STATE_FILES.localKey);
  const local = await readOptional(localPath);
  if (local) return { key: local, source: 'local' };
  await ensureStateDir(stateDir);
  const created = randomBytes(32).toString('hex');
  await writeSecretFile(localPath, created);
  return { key: created, source: 'local' };
}
