import { spawn } from 'node:child_process';

export interface ExecOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Run through /bin/sh -c (probes are shell commands written by the user). */
  shell?: boolean;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  maxBuffer?: number;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit code, or null when killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
}

export const DEFAULT_EXEC_TIMEOUT_MS = 5_000;
const DEFAULT_MAX_BUFFER = 16 * 1024 * 1024;

/**
 * Runs a program asynchronously and resolves with its output whatever the exit code; rejects only
 * when the program cannot be started (ENOENT...). A timeout kills the whole process group so a
 * hanging probe's children die too.
 */
export function execCommand(file: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const {
    timeoutMs = DEFAULT_EXEC_TIMEOUT_MS,
    signal,
    shell = false,
    env,
    cwd,
    maxBuffer = DEFAULT_MAX_BUFFER,
  } = options;
  return new Promise((resolve, reject) => {
    let timedOut = false;
    // detached: the child leads its own process group, so a timeout can kill its children too.
    const child = spawn(shell ? '/bin/sh' : file, shell ? ['-c', file] : [...args], {
      env: { ...(env ?? process.env), LC_ALL: 'C' },
      cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let size = 0;
    const collect = (chunks: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBuffer) chunks.push(chunk);
      else killGroup();
    };
    child.stdout.on('data', collect(stdout));
    child.stderr.on('data', collect(stderr));
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const onTimeout = () => {
      timedOut = true;
      killGroup();
    };
    const timer = setTimeout(onTimeout, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onTimeout);
    };
    if (signal?.aborted) onTimeout();
    else signal?.addEventListener('abort', onTimeout, { once: true });
    child.once('error', (error) => {
      cleanup();
      reject(error);
    });
    child.once('close', (code, killSignal) => {
      cleanup();
      resolve({
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        code,
        signal: killSignal,
        timedOut,
      });
    });
  });
}
