/**
 * Readers of one process's /proc entries (Linux), shared by the process collector and the daemon's
 * cheap process poll. Every reader takes the proc root so tests and a containerised agent can
 * point it elsewhere. Errors are returned as errno codes (`EACCES`, `ENOENT`), never thrown past
 * the caller's control: a process may exit between two reads.
 */
import { readFile as readFileCallback } from 'node:fs';
import { readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';

export const DEFAULT_PROC_ROOT = '/proc';

/** The errno code of a failed read (`EACCES`, `ENOENT`, ...), or the message. */
export function errorCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code ?? (error instanceof Error ? error.message : String(error));
}

/** Numeric entries of /proc: the pids of every process (thread group) visible here. */
export async function listPids(procRoot = DEFAULT_PROC_ROOT): Promise<number[]> {
  const entries = await readdir(procRoot);
  const pids: number[] = [];
  for (const entry of entries) if (/^\d+$/.test(entry)) pids.push(Number(entry));
  return pids;
}

/** NUL-separated /proc/<pid>/cmdline -> argv (empty for kernel threads and zombies). */
export function parseCmdline(raw: Buffer | string): string[] {
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  if (text.length === 0) return [];
  const parts = text.split('\0');
  if (parts.at(-1) === '') parts.pop();
  return parts;
}

/** NUL-separated /proc/<pid>/environ -> name -> value (first occurrence of a name wins, as getenv does). */
export function parseEnviron(raw: Buffer | string): Record<string, string> {
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  const env: Record<string, string> = {};
  for (const entry of text.split('\0')) {
    if (!entry) continue;
    const eq = entry.indexOf('=');
    if (eq <= 0) continue;
    const name = entry.slice(0, eq);
    if (!Object.hasOwn(env, name)) env[name] = entry.slice(eq + 1);
  }
  return env;
}

/**
 * The parent pid (field 4) and start time in clock ticks since boot (field 22) of /proc/<pid>/stat.
 * The command name (field 2) is in parentheses and may itself hold spaces and parentheses: fields
 * are counted from the last `)`.
 */
export function parseStat(stat: string): { ppid: number; startTime: number } | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = stat
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  // fields[0] is field 3 (state): field 4 is fields[1], field 22 is fields[19].
  const ppid = Number(fields[1]);
  const startTime = Number(fields[19]);
  return Number.isFinite(ppid) && Number.isFinite(startTime) ? { ppid, startTime } : undefined;
}

/** Effective uid and gid from /proc/<pid>/status (`Uid: real effective saved fs`). */
export function parseStatusIds(status: string): { uid?: number; gid?: number } {
  const ids: { uid?: number; gid?: number } = {};
  const uid = /^Uid:\s+\d+\s+(\d+)/m.exec(status)?.[1];
  const gid = /^Gid:\s+\d+\s+(\d+)/m.exec(status)?.[1];
  if (uid !== undefined) ids.uid = Number(uid);
  if (gid !== undefined) ids.gid = Number(gid);
  return ids;
}

/** Reads one file of /proc/<pid>/, returning the bytes or the errno code. */
export async function readProcFile(
  pid: number,
  name: string,
  procRoot = DEFAULT_PROC_ROOT,
): Promise<{ ok: true; data: Buffer } | { ok: false; code: string }> {
  // The callback API costs half the CPU of fs/promises' FileHandle path, which matters when every
  // command line of /proc is read every poll; still off the event loop (a /proc read can block on
  // a process stuck in the kernel).
  return new Promise((resolve) => {
    readFileCallback(join(procRoot, String(pid), name), (error, data) => {
      resolve(error ? { ok: false, code: errorCode(error) } : { ok: true, data });
    });
  });
}

/** Reads a symlink of /proc/<pid>/ (`exe`, `cwd`), returning the target or the errno code. */
export async function readProcLink(
  pid: number,
  name: string,
  procRoot = DEFAULT_PROC_ROOT,
): Promise<{ ok: true; target: string } | { ok: false; code: string }> {
  try {
    return { ok: true, target: await readlink(join(procRoot, String(pid), name)) };
  } catch (error) {
    return { ok: false, code: errorCode(error) };
  }
}

/** A process's parent pid and start time, or undefined when it is gone. */
export async function readStat(
  pid: number,
  procRoot = DEFAULT_PROC_ROOT,
): Promise<{ ppid: number; startTime: number } | undefined> {
  const stat = await readProcFile(pid, 'stat', procRoot);
  return stat.ok ? parseStat(stat.data.toString('utf8')) : undefined;
}

/** The kernel marks the link of an executable replaced or removed since the process started. */
export const DELETED_SUFFIX = ' (deleted)';
