/**
 * Runs `<tool> --version` asynchronously, with a short timeout, and remembers the answer for as
 * long as the executable file stays the same (same inode, size and mtime): a long-running agent
 * spawns each tool once, not on every collection. Only native (ELF) executables are cached: a
 * wrapper script can change its answer while staying byte-identical.
 */
import { open, stat } from 'node:fs/promises';
import type { CollectorContext } from './types.js';

export const VERSION_TIMEOUT_MS = 2_500;

const cache = new Map<string, string | undefined>();

async function cacheKey(file: string, args: readonly string[]): Promise<string | undefined> {
  try {
    const info = await stat(file);
    const handle = await open(file, 'r');
    try {
      const magic = Buffer.alloc(4);
      await handle.read(magic, 0, 4, 0);
      if (magic.toString('latin1') !== '\x7fELF') return undefined;
    } finally {
      await handle.close();
    }
    return JSON.stringify([file, info.dev, info.ino, info.size, info.mtimeMs, info.ctimeMs, args]);
  } catch {
    return undefined;
  }
}

export interface ProbeOptions {
  /** Extra environment variables for the child. */
  env?: Record<string, string>;
  timeoutMs?: number;
  /** False for executables whose answer depends on more than their own file (version-manager proxies). */
  cache?: boolean;
}

/**
 * Spawns `file args`, then applies `parse` to stdout followed by stderr (java and python 2 print
 * their version on stderr). Undefined when the tool cannot start, times out or says nothing useful.
 */
export async function probeVersion(
  context: CollectorContext,
  file: string,
  args: readonly string[],
  parse: (output: string) => string | undefined,
  options: ProbeOptions = {},
): Promise<string | undefined> {
  const key = options.cache === false ? undefined : await cacheKey(file, args);
  if (key !== undefined && cache.has(key)) return cache.get(key);
  let output: string;
  try {
    const result = await context.exec(file, args, {
      timeoutMs: options.timeoutMs ?? VERSION_TIMEOUT_MS,
      maxBuffer: 1024 * 1024,
      ...(options.env ? { env: { ...process.env, ...options.env } } : {}),
    });
    if (result.timedOut || result.signal) return undefined;
    output = `${result.stdout}\n${result.stderr}`;
  } catch {
    return undefined;
  }
  const version = parse(output);
  if (key !== undefined) cache.set(key, version);
  return version;
}

/** Forgets every cached answer (tests). */
export function clearProbeCache(): void {
  cache.clear();
}
