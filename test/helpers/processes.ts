/**
 * Spawned processes of cross-process tests. Every process is spawned detached (its own process
 * group) and tracked, so `cleanupProcesses()` can kill each whole group (`kill(-pid)`): the agent's
 * collector children and an `unshare ... sh -c` wrapper die with it, and nothing outlives the test.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (test/helpers/ is two levels down). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Prefix of the lines echoed to the test's stderr when ENVPARITY_TEST_ECHO=1 (debugging). */
  name?: string;
}

/** A spawned process group with its output captured line by line. */
export class ManagedProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly name: string;
  /** Every stdout and stderr line, in arrival order (stderr lines prefixed `[stderr] `). */
  readonly logs: string[] = [];
  /** Resolves when the process has exited and its output is closed. */
  readonly exited: Promise<ExitInfo>;
  exitInfo: ExitInfo | undefined;
  readonly #waiters = new Set<() => void>();

  constructor(command: string, args: readonly string[], { env, cwd = REPO_ROOT, name }: SpawnOptions = {}) {
    this.name = name ?? command;
    this.child = spawn(command, args, {
      cwd,
      env: env ?? process.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (this.child.pid === undefined) throw new Error(`cannot spawn ${command}`);
    this.pid = this.child.pid;
    this.#capture(this.child.stdout, '');
    this.#capture(this.child.stderr, '[stderr] ');
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        this.exitInfo = { code, signal };
        tracked.delete(this);
        this.#notify();
        resolve(this.exitInfo);
      });
    });
    tracked.add(this);
  }

  #capture(stream: NodeJS.ReadableStream | null, prefix: string): void {
    if (!stream) return;
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) this.#push(prefix + line);
    });
    stream.on('end', () => {
      if (rest) this.#push(prefix + rest);
    });
  }

  #push(line: string): void {
    this.logs.push(line);
    if (process.env.ENVPARITY_TEST_ECHO === '1') process.stderr.write(`[${this.name} ${this.pid}] ${line}\n`);
    this.#notify();
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** stdout lines that are JSON objects (pino log lines), parsed. */
  jsonLogs(from = 0): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    for (const line of this.logs.slice(from)) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not JSON: ignore
      }
    }
    return out;
  }

  /**
   * Resolves with the first JSON log line (from index `from` of `logs` on) that matches; rejects when
   * the process exits first or the timeout passes, quoting the output tail.
   */
  waitForLog(
    match: (line: Record<string, unknown>) => boolean,
    { timeoutMs = 20_000, from = 0, what = 'a log line' }: { timeoutMs?: number; from?: number; what?: string } = {},
  ): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const finish = (error?: Error, line?: Record<string, unknown>) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        if (error) reject(error);
        else resolve(line as Record<string, unknown>);
      };
      const check = () => {
        const found = this.jsonLogs(from).find(match);
        if (found) return finish(undefined, found);
        if (this.exitInfo)
          finish(new Error(`${this.name} exited (${JSON.stringify(this.exitInfo)}) before ${what}\n${this.tail()}`));
      };
      const timer = setTimeout(
        () =>
          finish(new Error(`timed out after ${timeoutMs} ms waiting for ${what} from ${this.name}\n${this.tail()}`)),
        timeoutMs,
      );
      this.#waiters.add(check);
      check();
    });
  }

  /** The last lines of output, for error messages. */
  tail(lines = 30): string {
    return this.logs.slice(-lines).join('\n');
  }

  /** Sends `signal` to the whole process group; a group that is already gone is fine. */
  signal(signal: NodeJS.Signals): void {
    if (!this.running) return;
    try {
      process.kill(-this.pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }

  /** Signals the group and waits for the exit; escalates to SIGKILL after `graceMs`. */
  async kill(signal: NodeJS.Signals = 'SIGKILL', graceMs = 10_000): Promise<ExitInfo> {
    this.signal(signal);
    if (signal !== 'SIGKILL') {
      const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
      try {
        return await this.exited;
      } finally {
        clearTimeout(timer);
      }
    }
    const info = await this.exited;
    // The leader is gone; make sure no child of the group survives it.
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // group already empty
    }
    return info;
  }
}

const tracked = new Set<ManagedProcess>();
const tempDirs = new Set<string>();

/** Spawns a tracked, detached process. */
export function spawnManaged(command: string, args: readonly string[], options: SpawnOptions = {}): ManagedProcess {
  installExitHook();
  return new ManagedProcess(command, args, options);
}

/** A fresh temp dir, removed by `cleanupProcesses()`. */
/** What a short command printed and how it ended. */
export interface CompletedRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a short command to its end, collecting stdout and stderr (for the long-running ones: spawnManaged). */
export function runToCompletion(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CompletedRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export async function makeTempDir(prefix = 'envparity-e2e-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** Kills every tracked process group (SIGKILL) and removes the temp dirs. Call it in `afterEach`/`afterAll`. */
export async function cleanupProcesses({ keepTempDirs = false }: { keepTempDirs?: boolean } = {}): Promise<void> {
  await Promise.all([...tracked].map((p) => p.kill('SIGKILL')));
  if (keepTempDirs || process.env.ENVPARITY_TEST_KEEP === '1') return;
  await Promise.all([...tempDirs].map((dir) => rm(dir, { recursive: true, force: true })));
  tempDirs.clear();
}

/** Processes still tracked (running). */
export function runningProcesses(): ManagedProcess[] {
  return [...tracked];
}

let exitHookInstalled = false;
/** Last line of defense: a test worker that exits without cleanup still kills its groups. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const p of tracked) {
      try {
        process.kill(-p.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  });
}
