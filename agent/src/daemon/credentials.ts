/**
 * The agent token and fleet key from enrollment, in the state dir with mode 0600. The fleet key is
 * written first: a token without its fleet key would let the agent report secrets hashed with the
 * wrong key, so such a half-written pair counts as "not enrolled".
 */
import { readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_TOKEN_LENGTH } from '@envparity/shared';
import { ensureStateDir, readFleetKey, STATE_FILES, writeSecretFile } from '../state-dir.js';

export interface Credentials {
  token: string;
  fleetKey: string;
}

/** What a token or fleet key from disk must look like to be sent: printable ASCII, at most MAX_TOKEN_LENGTH. */
export function isUsableCredential(value: string): boolean {
  return value.length > 0 && value.length <= MAX_TOKEN_LENGTH && /^[\x21-\x7e]+$/.test(value);
}

/**
 * The token and fleet key, or undefined when this state dir has not (completely) enrolled. A token
 * or fleet key that could never go on the wire (over 512 characters, garbage bytes) counts as not
 * enrolled: `onInvalid` is told why, and the daemon re-enrolls when it has an enroll secret.
 */
export async function readCredentials(
  stateDir: string,
  onInvalid?: (reason: string) => void,
): Promise<Credentials | undefined> {
  let token: string;
  try {
    token = (await readFile(join(stateDir, STATE_FILES.token), 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const fleetKey = await readFleetKey(stateDir);
  if (!token || !fleetKey) return undefined;
  if (!isUsableCredential(token) || !isUsableCredential(fleetKey)) {
    const which = isUsableCredential(token) ? STATE_FILES.fleetKey : STATE_FILES.token;
    onInvalid?.(
      `${which} in ${stateDir} is not a usable credential (at most ${MAX_TOKEN_LENGTH} printable ASCII characters): discarded`,
    );
    return undefined;
  }
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
