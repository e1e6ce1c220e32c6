/**
 * Opening a file a config names (`watch.files`, `watch.envFiles`) without being led elsewhere
 * (docs/SECURITY.md): a symlink is not followed unless `watch.followSymlinks: true`; the file is
 * opened with O_NOFOLLOW (a symlink swapped in after the check fails with ELOOP) and O_NONBLOCK (a
 * FIFO never blocks the open), then checked with fstat on the open descriptor (regular files only).
 */
import { constants } from 'node:fs';
import { type FileHandle, lstat, open, realpath } from 'node:fs/promises';
import type { HostFs } from './host-fs.js';

export type SafeOpenResult =
  | { ok: true; handle: FileHandle; size: number; realPath: string }
  | { ok: false; missing: true }
  | { ok: false; missing: false; error: string };

/** The errno code of a failed file operation, `EIO` when it has none (never a message: it may quote content). */
export function errorCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : 'EIO';
}

/** The `#error` text of a file over `watch.maxFileBytes` (`bytes` when known). */
export function tooLarge(bytes: number | undefined, limit: number): string {
  return `too large: ${bytes === undefined ? '' : `${bytes} bytes, `}over the watch.maxFileBytes cap of ${limit} (not read)`;
}

/**
 * Opens `filePath` for reading, or says why not (`missing`, or an `error` fit for a `#error` fact).
 * With a host in host mode, `filePath` is a host path: its directories are resolved inside the host
 * root (host-fs.ts), and a followed symlink too, so an absolute link target never reaches the
 * agent's own files; the last component is still opened with O_NOFOLLOW.
 */
export async function openRegularFile(
  filePath: string,
  followSymlinks: boolean,
  host?: HostFs,
): Promise<SafeOpenResult> {
  let handle: FileHandle | undefined;
  const rooted = host !== undefined && host.root !== '/';
  try {
    const localPath = rooted ? await host.local(filePath, { followLast: false }) : filePath;
    let realPath = localPath;
    const link = await lstat(localPath);
    if (link.isSymbolicLink()) {
      if (!followSymlinks)
        return { ok: false, missing: false, error: 'symlink not followed (watch.followSymlinks is false)' };
      realPath = rooted ? await host.local(filePath) : await realpath(filePath);
    }
    handle = await open(realPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const info = await handle.stat();
    if (info.isDirectory()) {
      await handle.close();
      return { ok: false, missing: false, error: 'EISDIR' };
    }
    // A FIFO would block the read forever and a device (/dev/zero) never ends: regular files only.
    if (!info.isFile()) {
      await handle.close();
      return { ok: false, missing: false, error: 'not a regular file' };
    }
    return { ok: true, handle, size: info.size, realPath };
  } catch (error) {
    await handle?.close().catch(() => undefined);
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: false, missing: true };
    if (code === 'ELOOP') return { ok: false, missing: false, error: 'symlink not followed (ELOOP)' };
    return { ok: false, missing: false, error: code };
  }
}

/** Reads an open file, at most `limit + 1` bytes (so the caller can tell "over the limit"). */
export async function readUpTo(handle: FileHandle, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  const chunkSize = 64 * 1024;
  for (;;) {
    const buffer = Buffer.allocUnsafe(Math.min(chunkSize, limit + 1 - total));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
    if (bytesRead === 0) break;
    chunks.push(buffer.subarray(0, bytesRead));
    total += bytesRead;
    if (total > limit) break;
  }
  return Buffer.concat(chunks, total);
}
