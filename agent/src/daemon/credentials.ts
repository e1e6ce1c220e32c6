/**
 * The agent token and fleet key from enrollment, in the state dir with mode 0600. The fleet key is
 * written first: a token without its fleet key would let the agent report secrets hashed with the
 * wrong key, so such a half-written pair counts as "not enrolled".
 */
import { readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureStateDir, readFleetKey, STATE_FILES, writeSecretFile } from '../state-dir.js';

export interface Credentials {
  token: string;
  fleetKey: string;
}

/** The token and fleet key, or undefined when this state dir has not (completely) enrolled. */
export async function readCredentials(stateDir: string): Promise<Credentials | undefined> {
  let token: string;
  try {
    token = (await readFile(join(stateDir, STATE_FILES.token), 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const fleetKey = await readFleetKey(stateDir);
  if (!token || !fleetKey) return undefined;
  return { token, fleetKey };
}

/** Writes `fleet.key` then `agent-token`, each created fresh with mode 0600 and renamed into place. */
export async function saveCredentials(stateDir: string, { token, fleetKey }: Credentials): Promise<void> {
  await ensureStateDir(stateDir);
  await writeSecretAtomic(join(stateDir, STATE_FILES.fleetKey), fleetKey);
  await writeSecretAtomic(join(stateDir, STATE_FILES.token), token);
}

async function writeSecretAtomic(path: string, content: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await unlink(tmp).catch(() => undefined);
  // A new file, so the 0600 mode applies even when the old file had a wider one.
  await writeSecretFile(tmp, content);
  await rename(tmp, path);
}
