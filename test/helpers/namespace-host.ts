/**
 * `startNamespaceHost()`: a simulated host for end-to-end tests — a private mount namespace AND a
 * private PID namespace (`unshare -m -p -f --mount-proc`), held open by a `sleep` that is pid 1
 * inside. Everything the test starts "on the host" (the agent, the application processes, a
 * `verify` run) enters it with `nsenter`, so:
 * - several hosts on one machine see different files at the same paths (bind mounts), and
 * - each host's `/proc` lists only its own processes, so an agent's `watch.processes` regex finds
 *   that host's application and nobody else's.
 * The host outlives agent and application restarts; killing the holder (pid 1) kills everything
 * inside it. Needs root, util-linux `unshare`/`nsenter`/`mount` (see `mountNamespaceSupport()`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AGENT_BIN, type BindMount, type CliResult } from './agent.js';
import { TEST_ENROLL_SECRET } from './aggregator.js';
import { type ExitInfo, type ManagedProcess, makeTempDir, spawnManaged } from './processes.js';
import { waitFor } from './wait-for.js';

let cachedSupport: { ok: true } | { ok: false; reason: string } | undefined;

/** Whether PID + mount namespaces with a private /proc can be created here (root, util-linux). */
export function pidNamespaceSupport(): { ok: true } | { ok: false; reason: string } {
  if (cachedSupport) return cachedSupport;
  if (process.platform !== 'linux') cachedSupport = { ok: false, reason: 'namespaces need Linux' };
  else if (process.getuid?.() !== 0) cachedSupport = { ok: false, reason: 'namespaces need root' };
  else {
    const probe = spawnSync(
      'unshare',
      ['-m', '-p', '-f', '--mount-proc', '--propagation', 'private', 'sh', '-c', 'test "$$" = 1 && command -v nsenter'],
      { encoding: 'utf8', timeout: 5000 },
    );
    if (probe.error) cachedSupport = { ok: false, reason: `unshare: ${(probe.error as NodeJS.ErrnoException).code}` };
    else if (probe.status !== 0)
      cachedSupport = {
        ok: false,
        reason: `unshare -m -p failed (exit ${probe.status}): ${probe.stderr.trim() || 'nsenter not found'}`,
      };
    else cachedSupport = { ok: true };
  }
  return cachedSupport;
}

export interface NamespaceSpawnOptions {
  /** The WHOLE environment of the process (nothing is inherited). */
  env: NodeJS.ProcessEnv;
  /** Working directory inside the host (default `/`). */
  cwd?: string;
  name?: string;
}

export interface NamespaceHost {
  readonly name: string;
  /** The holder's pid as the test sees it (pid 1 inside the host). */
  readonly nsPid: number;
  readonly holder: ManagedProcess;
  /** Starts a tracked process inside the host (its own process group, killed by `cleanupProcesses()`). */
  spawn(command: string, args: readonly string[], options: NamespaceSpawnOptions): ManagedProcess;
  /** Runs a command inside the host to completion. */
  run(command: string, args: readonly string[], options: NamespaceSpawnOptions): Promise<CliResult>;
  /** Kills every process of the host. */
  destroy(): Promise<ExitInfo>;
}

function nsenterArgs(nsPid: number, cwd: string, command: string, args: readonly string[]): string[] {
  return ['-t', String(nsPid), '-m', '-p', `--wd=${cwd}`, '--', command, ...args];
}

export async function startNamespaceHost(name: string, binds: readonly BindMount[]): Promise<NamespaceHost> {
  const support = pidNamespaceSupport();
  if (!support.ok) throw new Error(`startNamespaceHost: ${support.reason}`);
  // Paths travel as positional parameters, never spliced into the script.
  const script = `${binds.map(() => 'mount --bind "$1" "$2" && shift 2 && ').join('')}exec sleep infinity`;
  const holder = spawnManaged(
    'unshare',
    [
      '-m',
      '-p',
      '-f',
      '--mount-proc',
      '--propagation',
      'private',
      'sh',
      '-c',
      script,
      'sh',
      ...binds.flatMap((b) => [b.source, b.target]),
    ],
    { name: `host ${name}` },
  );
  // unshare forks pid 1 of the new namespace; it is ready once it has become `sleep infinity`.
  const nsPid = await waitFor(
    async () => {
      if (!holder.running) throw new Error(`host ${name} holder exited\n${holder.tail()}`);
      const children = (await readFile(`/proc/${holder.pid}/task/${holder.pid}/children`, 'utf8')).trim();
      const child = Number(children.split(/\s+/)[0]);
      if (!child) return undefined;
      const cmdline = await readFile(`/proc/${child}/cmdline`, 'utf8');
      return cmdline === 'sleep\0infinity\0' ? child : undefined;
    },
    { timeoutMs: 10_000, intervalMs: 20, message: `host ${name} namespace ready` },
  );

  return {
    name,
    nsPid,
    holder,
    spawn(command, args, { env, cwd = '/', name: processName }) {
      return spawnManaged('nsenter', nsenterArgs(nsPid, cwd, command, args), {
        env,
        name: processName ?? `${name} ${command}`,
      });
    },
    run(command, args, { env, cwd = '/' }) {
      return new Promise((resolve, reject) => {
        const child = spawn('nsenter', nsenterArgs(nsPid, cwd, command, args), {
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString('utf8');
        });
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString('utf8');
        });
        child.once('error', reject);
        child.once('close', (code) => resolve({ code, stdout, stderr }));
      });
    },
    destroy: () => holder.kill('SIGKILL'),
  };
}

export interface NamespacedAgentOptions {
  aggregatorUrl: string;
  hostId: string;
  environment: string;
  /** Agent config (written as JSON, which is YAML 1.2). */
  config: Record<string, unknown>;
  /** The agent's whole environment; ENVPARITY_ENROLL_SECRET is added when absent. */
  env: NodeJS.ProcessEnv;
  interval?: number;
  logLevel?: string;
  /** Default: a fresh temp dir. */
  stateDir?: string;
  startTimeoutMs?: number;
}

export interface NamespacedAgent {
  readonly hostId: string;
  readonly stateDir: string;
  readonly configFile: string;
  readonly process: ManagedProcess;
  /** SIGTERM (clean shutdown), SIGKILL after 10 s. */
  stop(): Promise<ExitInfo>;
  /** A new agent process on the same host with the same options and state dir (the old one must have exited). */
  restart(): Promise<NamespacedAgent>;
}

/** `envparity-agent run` inside a namespace host; resolves once it logged `connected to the aggregator`. */
export async function startNamespacedAgent(
  host: NamespaceHost,
  options: NamespacedAgentOptions,
): Promise<NamespacedAgent> {
  const stateDir = options.stateDir ?? (await makeTempDir(`envparity-e2e-agent-${options.hostId}-`));
  const configDir = await makeTempDir('envparity-e2e-agent-config-');
  const configFile = join(configDir, 'agent.yaml');
  await writeFile(configFile, `${JSON.stringify(options.config, null, 2)}\n`);
  const args = [
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
  ];
  const env = { ENVPARITY_ENROLL_SECRET: TEST_ENROLL_SECRET, ...options.env };
  const proc = host.spawn(process.execPath, args, { env, name: `agent ${options.hostId}` });
  await proc.waitForLog((line) => line.msg === 'connected to the aggregator', {
    timeoutMs: options.startTimeoutMs ?? 30_000,
    what: 'connected to the aggregator',
  });
  return {
    hostId: options.hostId,
    stateDir,
    configFile,
    process: proc,
    stop: () => proc.kill('SIGTERM'),
    async restart() {
      if (proc.running) throw new Error('restart(): the agent process is still running');
      return startNamespacedAgent(host, { ...options, stateDir });
    },
  };
}
