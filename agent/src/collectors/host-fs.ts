/**
 * The one place that turns a host path (`/etc/os-release`, `/proc/meminfo`, `/var/lib/dpkg/status`)
 * into the file the agent reads. Without a host root it is the path itself. In host mode
 * (`--host-root DIR`, config `hostRoot`, env `ENVPARITY_HOST_ROOT`: an agent in a container reading
 * the host's files mounted at DIR) every path is resolved inside DIR the way a chroot would see it:
 * component by component, each symlink read and followed by hand, an absolute target restarting at
 * DIR and `..` stopping at DIR, so that `DIR/etc/os-release -> /usr/lib/os-release` reads
 * `DIR/usr/lib/os-release` and never the container's own file. Collectors never build a path to
 * `/proc`, `/sys`, `/etc` or a package database themselves: they ask their context's HostFs.
 *
 * What this cannot promise: a symlink swapped into the host tree between the resolution and the
 * open (Node has no openat2(RESOLVE_IN_ROOT)) is followed by the kernel. The final component is
 * opened with O_NOFOLLOW where a caller reads config files (safe-open.ts), which closes the usual case.
 */
import { constants, type Stats } from 'node:fs';
import { access, lstat, open, readdir, readFile, readlink, realpath, stat } from 'node:fs/promises';
import { resolve as resolveLocal } from 'node:path';

/** Linux's limit of symlinks followed while resolving one path (ELOOP past it). */
export const MAX_SYMLINKS = 40;

export interface ResolveOptions {
  /** Follow a symlink in the last component too (default true). */
  followLast?: boolean;
}

/** Reads host files; every method takes a host path and never throws for a missing or unreadable file. */
export interface HostFs {
  /** `/`, or the directory holding the host's files (absolute, no trailing slash). */
  readonly root: string;
  /** True when the files are read under a host root other than `/`. */
  readonly hostMode: boolean;
  /** The local path to open for `hostPath`, symlinks resolved inside the root. Throws ENOENT, ENOTDIR, ELOOP. */
  local(hostPath: string, options?: ResolveOptions): Promise<string>;
  /** `root` joined with the path, nothing resolved: for what is not read (a directory to watch). */
  lexical(hostPath: string): string;
  /** The host path of the real file (every symlink resolved inside the root), or undefined. */
  realpath(hostPath: string): Promise<string | undefined>;
  readText(hostPath: string): Promise<string | undefined>;
  readBuffer(hostPath: string): Promise<Buffer | undefined>;
  /** The first `bytes` bytes of a file, or undefined. */
  readHead(hostPath: string, bytes: number): Promise<Buffer | undefined>;
  /** The target of the symlink at `hostPath` itself (as stored, not resolved), or undefined. */
  readLink(hostPath: string): Promise<string | undefined>;
  /** Entry names of a directory, or an empty list. */
  listDir(hostPath: string): Promise<string[]>;
  stat(hostPath: string): Promise<Stats | undefined>;
  exists(hostPath: string): Promise<boolean>;
  isDirectory(hostPath: string): Promise<boolean>;
  isExecutableFile(hostPath: string): Promise<boolean>;
}

function fsError(code: string, hostPath: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`${code}: ${hostPath}`);
  error.code = code;
  return error;
}

/**
 * Resolves `hostPath` inside `root` as the kernel would inside a chroot at `root`, and returns the
 * resolved host path (absolute, without symlinks). Relative host paths are taken from `/`.
 */
export async function resolveInRoot(root: string, hostPath: string, followLast = true): Promise<string> {
  const resolved: string[] = [];
  let pending = hostPath.split('/');
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const last = pending.every((rest) => rest === '' || rest === '.');
    const candidate = `/${[...resolved, part].join('/')}`;
    if (!last || followLast) {
      let info: Stats;
      try {
        info = await lstat(localPath(root, candidate));
      } catch (error) {
        throw fsError((error as NodeJS.ErrnoException).code ?? 'ENOENT', hostPath);
      }
      if (info.isSymbolicLink()) {
        if (++links > MAX_SYMLINKS) throw fsError('ELOOP', hostPath);
        const target = await readlink(localPath(root, candidate));
        if (target.startsWith('/')) resolved.length = 0;
        pending = [...target.split('/'), ...pending];
        continue;
      }
      if (!last && !info.isDirectory()) throw fsError('ENOTDIR', hostPath);
    }
    resolved.push(part);
  }
  return `/${resolved.join('/')}`;
}

function localPath(root: string, hostPath: string): string {
  if (root === '/') return hostPath;
  return hostPath === '/' ? root : `${root}${hostPath}`;
}

function absolute(hostPath: string): string {
  return hostPath.startsWith('/') ? hostPath : `/${hostPath}`;
}

export interface HostFsOptions {
  /**
   * Whether this is host mode (default: the root is not `/`). Tests that only hide or replace this
   * machine's sources (`createOsCollector({ root })`) read under a root without host mode's rules.
   */
  hostMode?: boolean;
}

/**
 * The host's files under `root` (default `/`: this machine, paths used as they are, the kernel
 * resolving symlinks). A root is made absolute against the working directory.
 */
export function createHostFs(root = '/', options: HostFsOptions = {}): HostFs {
  const base = resolveLocal(root);
  const rooted = base !== '/';
  const hostMode = options.hostMode ?? rooted;
  const local = async (hostPath: string, { followLast = true }: ResolveOptions = {}): Promise<string> => {
    if (!rooted) return hostPath;
    return localPath(base, await resolveInRoot(base, absolute(hostPath), followLast));
  };
  const attempt = async <T>(hostPath: string, read: (file: string) => Promise<T>): Promise<T | undefined> => {
    try {
      return await read(await local(hostPath));
    } catch {
      return undefined;
    }
  };
  const fs: HostFs = {
    root: base,
    hostMode,
    local,
    lexical: (hostPath) => (rooted ? localPath(base, resolveLocal('/', hostPath)) : hostPath),
    async realpath(hostPath) {
      if (!rooted) return realpath(hostPath).catch(() => undefined);
      try {
        const resolved = await resolveInRoot(base, absolute(hostPath), true);
        await lstat(localPath(base, resolved));
        return resolved;
      } catch {
        return undefined;
      }
    },
    readText: (hostPath) => attempt(hostPath, (file) => readFile(file, 'utf8')),
    readBuffer: (hostPath) => attempt(hostPath, (file) => readFile(file)),
    readHead: (hostPath, bytes) =>
      attempt(hostPath, async (file) => {
        const handle = await open(file, 'r');
        try {
          const buffer = Buffer.alloc(bytes);
          const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
          return buffer.subarray(0, bytesRead);
        } finally {
          await handle.close();
        }
      }),
    async readLink(hostPath) {
      try {
        return await readlink(await local(hostPath, { followLast: false }));
      } catch {
        return undefined;
      }
    },
    listDir: async (hostPath) => (await attempt(hostPath, (file) => readdir(file))) ?? [],
    stat: (hostPath) => attempt(hostPath, (file) => stat(file)),
    exists: async (hostPath) => (await fs.stat(hostPath)) !== undefined,
    isDirectory: async (hostPath) => (await fs.stat(hostPath))?.isDirectory() === true,
    async isExecutableFile(hostPath) {
      const file = await local(hostPath).catch(() => undefined);
      if (file === undefined) return false;
      try {
        if (!(await stat(file)).isFile()) return false;
        await access(file, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    },
  };
  return fs;
}

/** This machine's files, paths as they are: what every collector reads without a host root. */
export const LOCAL_HOST_FS: HostFs = createHostFs('/');

/** The trimmed text of a file, undefined when unreadable or blank. */
export async function readTrimmedIn(fs: HostFs, hostPath: string): Promise<string | undefined> {
  const text = (await fs.readText(hostPath))?.trim();
  return text ? text : undefined;
}

/** The first line of a file, trimmed; undefined when unreadable or blank. */
export async function readFirstLineIn(fs: HostFs, hostPath: string): Promise<string | undefined> {
  const line = (await fs.readText(hostPath))?.split('\n', 1)[0]?.trim();
  return line ? line : undefined;
}

/** An integer read from a one-value file (sysfs, procfs, cgroupfs), or undefined. */
export async function readIntegerIn(fs: HostFs, hostPath: string): Promise<number | undefined> {
  const text = await readTrimmedIn(fs, hostPath);
  return text !== undefined && /^-?\d+$/.test(text) ? Number(text) : undefined;
}
