/**
 * Finding programs on PATH without spawning anything: every PATH directory is listed once, then a
 * candidate is confirmed executable with fs.access. Also used by the hardware and library collectors.
 */
import { constants } from 'node:fs';
import { access, readdir, realpath, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import type { HostFs } from './host-fs.js';

/** The PATH directories in order, without duplicates, empty entries or relative ones (never search the cwd). */
export function pathDirectories(pathEnv = process.env.PATH ?? ''): string[] {
  return [...new Set(pathEnv.split(delimiter).filter((dir) => dir && isAbsolute(dir)))];
}

/**
 * Directory listings, each read once per collection pass. Directories are listed by their real
 * path, so `/bin` and `/usr/bin` on a merged-/usr system (both usually on PATH) are read once.
 * With a HostFs (host mode) the directories are host paths read under its root.
 */
export class PathIndex {
  private readonly listings = new Map<string, Promise<Set<string>>>();
  private readonly byRealDir = new Map<string, Promise<Set<string>>>();

  constructor(
    readonly directories: readonly string[] = pathDirectories(),
    private readonly host?: HostFs,
  ) {}

  /** Names in `dir` (empty when unreadable), cached for the life of this index. */
  list(dir: string): Promise<Set<string>> {
    let listing = this.listings.get(dir);
    if (!listing) {
      const host = this.host;
      const real = host
        ? host.realpath(dir).then((found) => found ?? Promise.reject(new Error(`ENOENT: ${dir}`)))
        : realpath(dir);
      const read = (path: string) => (host ? host.listDir(path) : readdir(path));
      listing = real.then(
        (real) => {
          let byReal = this.byRealDir.get(real);
          if (!byReal) {
            byReal = read(real).then(
              (names) => new Set(names),
              () => new Set<string>(),
            );
            this.byRealDir.set(real, byReal);
          }
          return byReal;
        },
        () => new Set<string>(),
      );
      this.listings.set(dir, listing);
    }
    return listing;
  }

  /**
   * The first executable regular file called `name` in the PATH directories (or in `directories`
   * when given), as the shell would find it. Undefined when there is none.
   */
  async find(name: string, directories: readonly string[] = this.directories): Promise<string | undefined> {
    const listings = await Promise.all(directories.map((dir) => this.list(dir)));
    for (const [index, dir] of directories.entries()) {
      if (!listings[index]?.has(name)) continue;
      const candidate = join(dir, name);
      if (await (this.host ? this.host.isExecutableFile(candidate) : isExecutableFile(candidate))) return candidate;
    }
    return undefined;
  }
}

export async function isExecutableFile(path: string): Promise<boolean> {
  try {
    const info = await stat(path);
    if (!info.isFile()) return false;
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const SYSTEM_DIRECTORIES = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/**
 * One system tool (`openssl`, `rpm`, `systemd-detect-virt`): the first executable of that name in
 * PATH, then in the standard system directories (services often run with a short PATH). Probes
 * each directory directly, which is cheaper than listing them for a single name.
 */
export async function findSystemTool(name: string): Promise<string | undefined> {
  const dirs = [...new Set([...pathDirectories(), ...SYSTEM_DIRECTORIES])];
  const candidates = dirs.map((dir) => join(dir, name));
  const usable = await Promise.all(candidates.map(isExecutableFile));
  return candidates[usable.indexOf(true)];
}
