/**
 * Linux /proc readers for benchmarks: a process's resident memory and CPU time, and open-file limits.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ProcMemory {
  /** Resident set size now, in KiB. */
  vmRssKb: number;
  /** Peak resident set size, in KiB. */
  vmHwmKb: number;
}

export function readProcMemory(pid: number | 'self'): ProcMemory | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { vmRssKb: field('VmRSS'), vmHwmKb: field('VmHWM') };
  } catch {
    return undefined;
  }
}

/** utime + stime of a process in clock ticks (see clockTicksPerSecond). */
export function readProcCpuTicks(pid: number | 'self'): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: split after its closing ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

export interface MachineCpuTicks {
  /** user + nice + system + irq + softirq + steal, summed over all CPUs. */
  busy: number;
  iowait: number;
  idle: number;
}

/** The machine-wide CPU counters of /proc/stat (clock ticks): to see who else used the CPUs. */
export function readMachineCpuTicks(): MachineCpuTicks | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    return { busy: user + nice + system + irq + softirq + steal, iowait, idle };
  } catch {
    return undefined;
  }
}

let ticks: number | undefined;
/** sysconf(_SC_CLK_TCK): 100 on practically every Linux. */
export function clockTicksPerSecond(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

export interface OpenFileLimit {
  soft: number;
  hard: number;
}

/** The open-file limit (`ulimit -n`) of a process; Infinity for "unlimited". */
export function readOpenFileLimit(pid: number | 'self' = 'self'): OpenFileLimit | undefined {
  try {
    const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
    const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
    if (!match) return undefined;
    const parse = (v: string) => (v === 'unlimited' ? Number.POSITIVE_INFINITY : Number(v));
    return { soft: parse(match[1] as string), hard: parse(match[2] as string) };
  } catch {
    return undefined;
  }
}

/**
 * Machine-wide TCP counters of /proc/net/netstat that reveal a listener not keeping up: accept-queue
 * overflows (`ListenOverflows`, the connection is dropped and the client retransmits its SYN/ACK
 * after 1 s, 3 s, 7 s...) and SYN retransmissions.
 */
export function readTcpListenCounters():
  | { listenOverflows: number; listenDrops: number; synRetrans: number }
  | undefined {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
    const header = lines.findIndex((l) => l.startsWith('TcpExt:'));
    const names = (lines[header] ?? '').trim().split(/\s+/);
    const values = (lines[header + 1] ?? '').trim().split(/\s+/).map(Number);
    const get = (name: string) => values[names.indexOf(name)] ?? 0;
    return {
      listenOverflows: get('ListenOverflows'),
      listenDrops: get('ListenDrops'),
      synRetrans: get('TCPSynRetrans'),
    };
  } catch {
    return undefined;
  }
}
