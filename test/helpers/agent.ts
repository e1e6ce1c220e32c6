/**
 * `startAgent()`: the BUILT agent bin (`envparity-agent run`) as a real process. With
 * `mountNamespace`, it runs in a private mount namespace (`unshare -m`) with bind mounts, so several
 * agents on one machine can watch the SAME path and see different files (tests run as root).
 */
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TEST_ENROLL_SECRET } from './aggregator.js';
import {
  type CompletedRun,
  type ExitInfo,
  type ManagedProcess,
  makeTempDir,
  REPO_ROOT,
  runToCompletion,
  spawnManaged,
} from './processes.js';

export const AGENT_BIN = join(REPO_ROOT, 'agent/bin/envparity-agent.js');

export type CliResult = CompletedRun;

/** Runs one short agent command (`collect`, `verify`, `baseline`) to completion; `env` is the whole environment. */
export function runAgentCli(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  return runToCompletion(process.execPath, [AGENT_BIN, ...args], { cwd: REPO_ROOT, env });
}

export interface BindMount {
  /** Existing file or directory whose content the agent sees... */
  source: string;
  /** ...at this existing path (a directory for a directory, a file for a file). */
  target: string;
}

export interface StartAgentOptions {
  /** The aggregator's http:// (or ws://) URL. */
  aggregatorUrl: string;
  /** Default: a fresh temp dir. Reuse one to restart "the same" agent. */
  stateDir?: string;
  /** Agent config (DESIGN "Agent config file"); written as JSON, which is YAML 1.2, to a temp `agent.yaml`. */
  config?: Record<string, unknown>;
  /** Extra environment over the test process's; ENVPARITY_ENROLL_SECRET defaults to TEST_ENROLL_SECRET. */
  env?: NodeJS.ProcessEnv;
  hostId: string;
  environment: string;
  /** `--interval` seconds between full passes. */
  interval?: number;
  logLevel?: string;
  args?: readonly string[];
  mountNamespace?: { binds: readonly BindMount[] };
  /** Resolve only after the agent logged `connected to the aggregator` (default true). */
  waitConnected?: boolean;
  startTimeoutMs?: number;
}

export interface AgentHandle {
  readonly pid: number;
  readonly hostId: string;
  readonly stateDir: string;
  readonly configFile: string;
  readonly process: ManagedProcess;
  readonly logs: string[];
  kill(signal?: NodeJS.Signals): Promise<ExitInfo>;
  stop(): Promise<ExitInfo>;
  /** A new process with the same options and state dir (the old one must have exited). */
  restart(overrides?: Partial<Omit<StartAgentOptions, 'stateDir' | 'hostId'>>): Promise<AgentHandle>;
}

let namespaceSupport: { ok: true } | { ok: false; reason: string } | undefined;

/**
 * Whether `mountNamespace` works here: needs `unshare` and `mount` (util-linux), root, and a kernel
 * or container that allows new mount namespaces. The answer says why not, for `it.skipIf` messages.
 */
export function mountNamespaceSupport(): { ok: true } | { ok: false; reason: string } {
  if (namespaceSupport) return namespaceSupport;
  if (process.platform !== 'linux') namespaceSupport = { ok: false, reason: 'mount namespaces need Linux' };
  else if (process.getuid?.() !== 0) namespaceSupport = { ok: false, reason: 'mount namespaces need root' };
  else {
    const probe = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'command -v mount >/dev/null'], {
      encoding: 'utf8',
      timeout: 5000,
    });
    if (probe.error)
      namespaceSupport = {
        ok: false,
        reason: `unshare is not available (${(probe.error as NodeJS.ErrnoException).code})`,
      };
    else if (probe.status !== 0)
      namespaceSupport = {
        ok: false,
        reason: `unshare -m failed (exit ${probe.status}): ${probe.stderr.trim() || 'mount not found'}`,
      };
    else namespaceSupport = { ok: true };
  }
  return namespaceSupport;
}

export async function startAgent(options: StartAgentOptions): Promise<AgentHandle> {
  const stateDir = options.stateDir ?? (await makeTempDir('envparity-e2e-agent-'));
  const configDir = await makeTempDir('envparity-e2e-agent-config-');
  const configFile = join(configDir, 'agent.yaml');
  await writeFile(configFile, `${JSON.stringify(options.config ?? {}, null, 2)}\n`);

  const agentArgs = [
    AGENT_BIN,
    'run',
    '--aggregator',
    options.aggregatorUrl,
    '--config',
    configFile,
    '--environment',
    options.environment,
    '--host-id',
    options.hostId,
    '--state-dir',
    stateDir,
    '--log-level',
    options.logLevel ?? 'debug',
    ...(options.interval !== undefined ? ['--interval', String(options.interval)] : []),
    ...(options.args ?? []),
  ];
  const env: NodeJS.ProcessEnv = { ...process.env, ENVPARITY_ENROLL_SECRET: TEST_ENROLL_SECRET, ...options.env };
  const name = `agent ${options.hostId}`;

  let proc: ManagedProcess;
  if (options.mountNamespace) {
    const support = mountNamespaceSupport();
    if (!support.ok) throw new Error(`startAgent: mountNamespace unavailable: ${support.reason}`);
    // Paths travel as positional parameters, never spliced into the script: no quoting issues.
    const script = `${options.mountNamespace.binds.map(() => 'mount --bind "$1" "$2" && shift 2 && ').join('')}exec "$@"`;
    const positional = options.mountNamespace.binds.flatMap((bind) => [bind.source, bind.target]);
    proc = spawnManaged(
      'unshare',
      ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', ...positional, process.execPath, ...agentArgs],
      { env, name },
    );
  } else {
    proc = spawnManaged(process.execPath, agentArgs, { env, name });
  }

  if (options.waitConnected !== false) {
    await proc.waitForLog((line) => line.msg === 'connected to the aggregator', {
      timeoutMs: options.startTimeoutMs ?? 30_000,
      what: 'connected to the aggregator',
    });
  }

  return {
    pid: proc.pid,
    hostId: options.hostId,
    stateDir,
    configFile,
    process: proc,
    logs: proc.logs,
    kill: (signal = 'SIGKILL') => proc.kill(signal),
    stop: () => proc.kill('SIGTERM'),
    async restart(overrides = {}) {
      if (proc.running) throw new Error('restart(): the agent process is still running');
      return startAgent({ ...options, ...overrides, stateDir });
    },
  };
}
