/**
 * Runs the fleet in a child process. A benchmark should: the orchestrator's sampling timers
 * (/proc reads, /metrics scrapes, the duration bound) must stay punctual while the fleet's event
 * loop is saturated by thousands of handshakes, and the fleet's own CPU and memory are then
 * measurable apart from the orchestrator's. The child may get a higher open-file limit than the
 * parent (through `sh -c 'ulimit -Sn N; exec node ...'`), since Node cannot raise its own.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FleetOptions, FleetStats } from './fleet.js';

/** The environment variable that carries the fleet options (JSON) to the child. */
export const FLEET_OPTIONS_ENV = 'ENVPARITY_LOADGEN_OPTIONS';

/** Messages from the child to its parent. */
export type FleetChildMessage = { type: 'stats'; stats: FleetStats } | { type: 'final'; stats: FleetStats };

export interface ForkFleetOptions {
  /** Soft open-file limit for the child; must not exceed the hard limit. */
  nofile?: number;
  /** Scheduling niceness for the child (negative needs privileges), e.g. on a machine shared with other work. */
  nice?: number;
  statsIntervalMs?: number;
  execArgv?: readonly string[];
}

export interface FleetProcess {
  readonly pid: number;
  /** The latest stats the child sent. */
  latest(): FleetStats | undefined;
  onStats(listener: (stats: FleetStats) => void): void;
  /** Asks the child for `Fleet.change(count)` (one changed report from up to `count` agents). */
  change(count: number): void;
  /** Asks the child to close its sockets and exit; SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<FleetStats | undefined>;
  /** Resolves with the exit code when the child exits. */
  readonly exited: Promise<number | null>;
}

const CHILD_PATH = fileURLToPath(new URL('./fleet-child.js', import.meta.url));

export function forkFleet(
  options: FleetOptions,
  { nofile, nice, statsIntervalMs = 1000, execArgv = [] }: ForkFleetOptions = {},
): FleetProcess {
  const nodeArgs = [...execArgv, CHILD_PATH];
  const env = { ...process.env, [FLEET_OPTIONS_ENV]: JSON.stringify({ ...options, statsIntervalMs }) };
  const stdio: ['ignore', 'inherit', 'inherit', 'ipc'] = ['ignore', 'inherit', 'inherit', 'ipc'];
  const [command, args] = wrapCommand(process.execPath, nodeArgs, { nofile, nice });
  const child = spawn(command, args, { stdio, env });
  let latest: FleetStats | undefined;
  let final: FleetStats | undefined;
  const listeners: ((stats: FleetStats) => void)[] = [];
  child.on('message', (message: FleetChildMessage) => {
    latest = message.stats;
    if (message.type === 'final') final = message.stats;
    for (const listener of listeners) listener(message.stats);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    pid: child.pid ?? -1,
    latest: () => latest,
    onStats: (listener) => listeners.push(listener),
    change(count) {
      if (child.exitCode === null && child.connected) child.send({ type: 'change', count });
    },
    async stop(timeoutMs = 15_000) {
      if (child.exitCode === null && child.connected) child.send({ type: 'stop' });
      const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(killer);
      return final ?? latest;
    },
    exited,
  };
}

/**
 * `command args` run through `sh -c 'ulimit -Sn N && exec nice -n M "$0" "$@"'` when a limit or a
 * niceness is asked for (Node can change neither for its own process), else unchanged. `exec`
 * keeps the pid, so /proc/PID still describes the real process; niceness set before exec applies
 * to every thread the process will start.
 */
export function wrapCommand(
  command: string,
  args: readonly string[],
  { nofile, nice }: { nofile?: number | undefined; nice?: number | undefined } = {},
): [string, string[]] {
  if (nofile === undefined && nice === undefined) return [command, [...args]];
  const limit = nofile === undefined ? '' : `ulimit -Sn ${Math.floor(nofile)} && `;
  const niceness = nice === undefined ? '' : `nice -n ${Math.trunc(nice)} `;
  return ['/bin/sh', ['-c', `${limit}exec ${niceness}"$0" "$@"`, command, ...args]];
}
