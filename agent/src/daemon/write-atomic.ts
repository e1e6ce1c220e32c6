import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface WriteAtomicOptions {
  mode?: number;
  /** fsync the file before the rename and the directory after it (default true). */
  fsync?: boolean;
}

/**
 * Writes `path` so that a reader (or a restart after a crash, even SIGKILL or power loss) sees
 * either the old content or the new one, never a torn file: temp file in the same directory,
 * fsync, rename over the target, fsync of the directory.
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  { mode = 0o600, fsync = true }: WriteAtomicOptions = {},
): Promise<void> {
  const tmp = `${dirname(path)}/.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const handle = await open(tmp, 'w', mode);
  try {
    await handle.writeFile(data);
    if (fsync) await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  try {
    await rename(tmp, path);
  } catch (error) {
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
  if (fsync) await syncDirectory(dirname(path));
}

/** fsync of a directory, so a rename or unlink in it is durable. Best effort: some filesystems refuse. */
export async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // not supported here (e.g. some network or overlay filesystems): the rename is still atomic
  }
}

/** Temp files left by writeFileAtomic when a process died mid-write. */
export function isAtomicTempFile(name: string): boolean {
  return name.startsWith('.tmp-');
}
