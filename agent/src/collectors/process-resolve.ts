/**
 * Finds the processes of one `watch.processes` entry: by command-line regex (every process of
 * /proc whose argv joined by spaces matches), by pid file, or by systemd unit (the unit's cgroup,
 * else `systemctl show -p MainPID`). The matches come back ordered oldest first (start time, then
 * pid): the first one is the representative whose facts are reported, which is stable across polls
 * and usually the parent of a pre-forking server (its workers start later).
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ProcessConfig } from '@envparity/shared';
import type { ExecOptions, ExecResult } from '../exec.js';
import type { HostFs } from './host-fs.js';
import { DEFAULT_PROC_ROOT, errorCode, listPids, parseCmdline, readProcFile, readStat } from './process-proc.js';

export type Exec = (file: string, args: readonly string[], options?: ExecOptions) => Promise<ExecResult>;

export interface ResolveOptions {
  procRoot?: string;
  /** Root of the cgroup file system. */
  cgroupRoot?: string;
  /** Where systemd keeps its runtime state; its absence means systemd is not running. */
  systemdRunDir?: string;
  /** Runs `systemctl` (bounded by a timeout) when the unit's cgroup is not where it usually is. */
  exec?: Exec;
  /** Pids never reported: the agent itself (a regex can match its own command line). */
  excludePids?: readonly number[];
  /**
   * In host mode, the host's files: a pid file is a host path read under its root, and systemctl
   * is never run (the agent's would ask its container's systemd, if any).
   */
  host?: HostFs;
  /**
   * The command lines of every process, read once and shared by all `match` entries of one pass
   * (see commandLineTable); read by this call when absent.
   */
  commandLines?: Promise<ReadonlyMap<number, string>>;
}

export interface ResolvedProcesses {
  /** Matching pids, oldest first; the first is the representative. */
  pids: number[];
  /** Why nothing matched, or why the lookup itself failed (pid file unreadable, no systemd). */
  problem?: string;
}

export const SYSTEMCTL_TIMEOUT_MS = 2_000;
const DEFAULT_CGROUP_ROOT = '/sys/fs/cgroup';
const DEFAULT_SYSTEMD_RUN_DIR = '/run/systemd/system';

const regexCache = new Map<string, RegExp>();
function compiled(source: string): RegExp {
  let regex = regexCache.get(source);
  if (!regex) {
    regex = new RegExp(source);
    regexCache.set(source, regex);
  }
  return regex;
}

/** A short human description of how a process is found, for error messages. */
export function describeSpec(spec: ProcessConfig): string {
  if (spec.match !== undefined) return `match /${spec.match}/`;
  if (spec.pidFile !== undefined) return `pidFile ${spec.pidFile}`;
  return `unit ${spec.unit}`;
}

/** The pids of `spec`, oldest first. */
export async function resolveProcesses(spec: ProcessConfig, options: ResolveOptions = {}): Promise<ResolvedProcesses> {
  const procRoot = options.procRoot ?? DEFAULT_PROC_ROOT;
  const exclude = new Set(options.excludePids ?? [process.pid]);
  let found: ResolvedProcesses;
  if (spec.match !== undefined)
    found = byRegex(compiled(spec.match), await (options.commandLines ?? commandLineTable(procRoot)), exclude);
  else if (spec.pidFile !== undefined) found = await byPidFile(spec.pidFile, procRoot, options.host);
  else found = await byUnit(spec.unit ?? '', options);
  if (found.pids.length <= 1) return found;
  return { ...found, pids: await oldestFirst(found.pids, procRoot) };
}

/** pid -> argv joined by spaces, for every process with a command line (not kernel threads). */
export async function commandLineTable(procRoot = DEFAULT_PROC_ROOT): Promise<Map<number, string>> {
  const pids = await listPids(procRoot);
  const table = new Map<number, string>();
  await Promise.all(
    pids.map(async (pid) => {
      const cmdline = await readProcFile(pid, 'cmdline', procRoot);
      if (!cmdline.ok) return;
      const argv = parseCmdline(cmdline.data);
      if (argv.length > 0) table.set(pid, argv.join(' '));
    }),
  );
  return table;
}

function byRegex(regex: RegExp, table: ReadonlyMap<number, string>, exclude: ReadonlySet<number>): ResolvedProcesses {
  const matches: number[] = [];
  for (const [pid, line] of table) if (!exclude.has(pid) && regex.test(line)) matches.push(pid);
  return matches.length > 0 ? { pids: matches } : { pids: [], problem: `no process matches /${regex.source}/` };
}

async function byPidFile(pidFile: string, procRoot: string, host: HostFs | undefined): Promise<ResolvedProcesses> {
  let text: string;
  try {
    text = await readFile(host?.hostMode ? await host.local(pidFile) : pidFile, 'utf8');
  } catch (error) {
    return { pids: [], problem: `cannot read pid file ${pidFile}: ${errorCode(error)}` };
  }
  const pid = Number(text.trim().split(/\s+/)[0]);
  if (!Number.isInteger(pid) || pid <= 0) return { pids: [], problem: `pid file ${pidFile} holds no pid` };
  if (!(await readStat(pid, procRoot))) return { pids: [], problem: `pid ${pid} of ${pidFile} is not running` };
  return { pids: [pid] };
}

/** `api` -> `api.service`: systemctl accepts both, the cgroup directory has the full name. */
export function unitName(unit: string): string {
  return /\.(service|socket|scope|slice|mount|timer|target|path|swap|device|automount)$/.test(unit)
    ? unit
    : `${unit}.service`;
}

async function byUnit(unit: string, options: ResolveOptions): Promise<ResolvedProcesses> {
  const name = unitName(unit);
  const cgroupRoot = options.cgroupRoot ?? DEFAULT_CGROUP_ROOT;
  // cgroup v2 (unified), then v1's systemd hierarchy.
  for (const dir of [join(cgroupRoot, 'system.slice', name), join(cgroupRoot, 'systemd', 'system.slice', name)]) {
    let text: string;
    try {
      text = await readFile(join(dir, 'cgroup.procs'), 'utf8');
    } catch {
      continue;
    }
    const pids = text
      .split('\n')
      .map((line) => Number(line.trim()))
      .filter((pid) => Number.isInteger(pid) && pid > 0);
    return pids.length > 0 ? { pids } : { pids: [], problem: `unit ${name} has no running process` };
  }
  try {
    await stat(options.systemdRunDir ?? DEFAULT_SYSTEMD_RUN_DIR);
  } catch {
    return { pids: [], problem: `unit ${name}: systemd is not running on this host` };
  }
  if (!options.exec || options.host?.hostMode) return { pids: [], problem: `unit ${name} has no running process` };
  let result: ExecResult;
  try {
    result = await options.exec('systemctl', ['show', '-p', 'MainPID', '--value', name], {
      timeoutMs: SYSTEMCTL_TIMEOUT_MS,
    });
  } catch (error) {
    return { pids: [], problem: `unit ${name}: cannot run systemctl: ${errorCode(error)}` };
  }
  if (result.timedOut) return { pids: [], problem: `unit ${name}: systemctl timed out` };
  const pid = Number(result.stdout.trim());
  if (!Number.isInteger(pid) || pid <= 0) return { pids: [], problem: `unit ${name} has no running process` };
  return { pids: [pid] };
}

async function oldestFirst(pids: readonly number[], procRoot: string): Promise<number[]> {
  const withStart = await Promise.all(
    pids.map(async (pid) => ({ pid, start: (await readStat(pid, procRoot))?.startTime })),
  );
  return withStart
    .filter((entry) => entry.start !== undefined)
    .sort((a, b) => (a.start as number) - (b.start as number) || a.pid - b.pid)
    .map((entry) => entry.pid);
}
