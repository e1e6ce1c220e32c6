/**
 * Small async file helpers shared by the os, host, hardware, runtime, library and container
 * collectors. Every reader resolves to `undefined` instead of throwing, so a collector can treat
 * "file missing", "permission denied" and "not a regular file" alike: the fact is simply omitted.
 */
import { readdir, readFile, readlink, stat } from 'node:fs/promises';

/** The file's text, or undefined when it cannot be read. */
export async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The file's text trimmed, or undefined when it cannot be read or is blank. */
export async function readTrimmed(path: string): Promise<string | undefined> {
  const text = await readText(path);
  const trimmed = text?.trim();
  return trimmed ? trimmed : undefined;
}

/** The first line of a file, trimmed; undefined when unreadable or blank. */
export async function readFirstLine(path: string): Promise<string | undefined> {
  const text = await readText(path);
  if (text === undefined) return undefined;
  const line = text.split('\n', 1)[0]?.trim();
  return line ? line : undefined;
}

/** An integer read from a one-value file (sysfs, procfs, cgroupfs), or undefined. */
export async function readInteger(path: string): Promise<number | undefined> {
  const text = await readTrimmed(path);
  if (text === undefined || !/^-?\d+$/.test(text)) return undefined;
  return Number(text);
}

/** The target of a symbolic link, or undefined. */
export async function readLinkTarget(path: string): Promise<string | undefined> {
  try {
    return await readlink(path);
  } catch {
    return undefined;
  }
}

/** Entry names of a directory, or an empty list. */
export async function listDir(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch {
    return [];
  }
}

/** True when something exists at `path` (following symlinks). */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** True when `path` is an existing directory. */
export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Parses a shell-style `KEY=value` file (os-release, /etc/default/locale, /etc/locale.conf):
 * comments and blank lines are skipped, values may be double- or single-quoted, and inside double
 * quotes `\"`, `\\`, `\$` and `` \` `` are unescaped, as os-release(5) specifies.
 */
export function parseKeyValueText(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (!line || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!match) continue;
    result[match[1] as string] = unquoteShellValue(match[2] as string);
  }
  return result;
}

function unquoteShellValue(raw: string): string {
  const value = raw.trim();
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    return value.slice(1, -1).replace(/\\(["\\$`])/g, '$1');
  }
  if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) return value.slice(1, -1);
  // Unquoted: drop a trailing comment, then unescape backslashes.
  return value.replace(/\s+#.*$/, '').replace(/\\(.)/g, '$1');
}

/** Throws when a collector produced nothing at all; otherwise returns the map unchanged. */
export function requireFacts<T extends object>(collector: string, facts: T): T {
  if (Object.keys(facts).length === 0) throw new Error(`the ${collector} collector found no facts on this host`);
  return facts;
}
