/**
 * The runtime behind a process's executable (`/proc/<pid>/exe`) and its version, with the runtime
 * collector's helpers: the installation's own files first (patchlevel.h, JDK `release`,
 * rbconfig.rb), else `<exe> --version` with a short timeout. Answers are cached by the executable
 * file's identity (device, inode, size, mtime), so a long-running agent asks each binary once, and
 * a binary upgraded in place is asked again. When the running binary was replaced on disk, the
 * kernel's `/proc/<pid>/exe` still reaches the old one, and that is what is asked.
 */
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { LOCAL_HOST_FS } from './host-fs.js';
import { RUNTIMES } from './runtime.js';
import { PathIndex } from './runtime-path.js';
import { probeVersion } from './runtime-probe.js';
import { currentShimEnvironment } from './runtime-shims.js';
import { matchVersion, stripV, VERSION_PATTERNS } from './runtime-versions.js';
import type { CollectorContext } from './types.js';

export interface ExeRuntime {
  /** Runtime name as the runtime collector spells it (`node`, `python`, `java`...). */
  name: string;
  version?: string;
}

/** Executable base names -> runtime names (RUNTIMES entries, and node). */
const EXE_RUNTIMES: readonly { pattern: RegExp; name: string; args?: readonly string[] }[] = [
  { pattern: /^(node|nodejs)\d*$/, name: 'node' },
  { pattern: /^python\d*(\.\d+)*$/, name: 'python' },
  { pattern: /^java$/, name: 'java' },
  { pattern: /^ruby\d*(\.\d+)*$/, name: 'ruby' },
  { pattern: /^php-fpm\d*(\.\d+)*$/, name: 'php', args: ['-n', '-v'] },
  { pattern: /^php\d*(\.\d+)*$/, name: 'php' },
  { pattern: /^perl\d*(\.\d+)*$/, name: 'perl' },
  { pattern: /^deno$/, name: 'deno' },
  { pattern: /^bun$/, name: 'bun' },
];

/** The runtime a base name stands for, or undefined (a compiled program, `sleep`, nginx...). */
export function runtimeNameFor(exePath: string): string | undefined {
  const name = basename(exePath);
  return EXE_RUNTIMES.find((entry) => entry.pattern.test(name))?.name;
}

const cache = new Map<string, ExeRuntime | undefined>();

/** Forgets cached answers (tests). */
export function clearExeRuntimeCache(): void {
  cache.clear();
}

/**
 * The runtime and version of the executable a process runs. `exePath` is the link target of
 * `/proc/<pid>/exe` without its ` (deleted)` suffix; `procExe` is the link itself.
 */
export async function exeRuntime(
  context: CollectorContext,
  exePath: string,
  procExe: string,
  deleted: boolean,
): Promise<ExeRuntime | undefined> {
  const entry = EXE_RUNTIMES.find((candidate) => candidate.pattern.test(basename(exePath)));
  if (!entry) return undefined;
  let key: string;
  try {
    const info = await stat(procExe);
    key = JSON.stringify([exePath, info.dev, info.ino, info.size, info.mtimeMs]);
  } catch {
    return { name: entry.name };
  }
  if (cache.has(key)) return cache.get(key);
  const version = await versionOf(context, entry, exePath, procExe, deleted);
  const answer: ExeRuntime = version ? { name: entry.name, version } : { name: entry.name };
  cache.set(key, answer);
  return answer;
}

async function versionOf(
  context: CollectorContext,
  entry: (typeof EXE_RUNTIMES)[number],
  exePath: string,
  procExe: string,
  deleted: boolean,
): Promise<string | undefined> {
  // The binary the agent itself runs on: no spawn.
  if (entry.name === 'node' && (await sameFile(procExe, process.execPath))) return stripV(process.version);
  const spec = RUNTIMES.find((runtime) => runtime.name === entry.name);
  if (!deleted && spec?.fromFiles) {
    const shim = currentShimEnvironment(new PathIndex());
    const version = await spec.fromFiles(
      { command: entry.name, path: exePath, target: exePath, real: exePath, opaqueShim: false },
      shim,
      LOCAL_HOST_FS,
    );
    if (version) return version;
  }
  const pattern = spec?.pattern ?? VERSION_PATTERNS.node;
  return probeVersion(
    context,
    deleted ? procExe : exePath,
    entry.args ?? spec?.args ?? ['--version'],
    (output) => matchVersion(output, pattern),
    { cache: false },
  );
}

async function sameFile(a: string, b: string): Promise<boolean> {
  try {
    const [x, y] = await Promise.all([stat(a), stat(b)]);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

/** `/proc/<pid>/exe` under a proc root. */
export function procExePath(procRoot: string, pid: number): string {
  return join(procRoot, String(pid), 'exe');
}
