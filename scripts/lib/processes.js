// Shared by `npm start` (scripts/start.js) and `npm run demo` (scripts/demo.js): the incremental
// build, child processes with their output in log files and a clean stop, the aggregator's
// `listening` line, and the bootstrap secrets.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function say(line) {
  process.stdout.write(`${line}\n`);
}

/**
 * Builds what is missing (`tsc -b`: a no-op when every dist/ is current). Exits 1 when the build
 * fails, or when TypeScript is not installed and one of `required` (paths under the root) is missing.
 */
export function buildOrExit(required = [join('aggregator', 'dist', 'cli.js')]) {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  if (existsSync(tsc)) {
    const build = spawnSync(process.execPath, [tsc, '-b'], { cwd: ROOT, stdio: 'inherit' });
    if (build.status !== 0) {
      say('envparity: the build failed (see above)');
      process.exit(1);
    }
  } else if (required.some((file) => !existsSync(join(ROOT, file)))) {
    say('envparity: not built and TypeScript is not installed: run `npm ci` first');
    process.exit(1);
  }
}

/** A bootstrap secret: its env var when set, else the file the aggregator wrote into the data dir. */
export function readSecret(dataDir, name, envName) {
  return process.env[envName] || readFileSync(join(dataDir, name), 'utf8').trim();
}

/** Resolves with the URL of the aggregator's `{"msg":"listening","url":...}` log line. */
export function waitForListening(aggregator) {
  return new Promise((resolveUrl) => {
    let buffered = '';
    aggregator.stdout.on('data', (chunk) => {
      buffered += chunk.toString('utf8');
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        try {
          const entry = JSON.parse(line);
          if (entry.msg === 'listening' && entry.url) resolveUrl(entry.url);
        } catch {
          // not a JSON line
        }
        newline = buffered.indexOf('\n');
      }
    });
  });
}

/**
 * Child processes (node scripts) whose stdout and stderr go to `<logsDir>/<name>.log`. A child
 * that exits while not stopping stops everything with exit code 1. `stop(code)` runs `beforeKill`
 * (e.g. closing in-process sockets while the aggregator still listens), SIGTERMs every child
 * (SIGKILL after 10 s) and, once all are gone, prints `envparity: stopped.`, runs `afterExit`
 * (e.g. removing a temp dir) and exits. `tailLines` > 0 also prints the last lines of a child
 * that exited unexpectedly (for logs that do not outlive the run). `killOnExit`: should this
 * process die without stopping (a crash), its children are SIGKILLed rather than left running.
 */
export function createSupervisor({ logsDir, beforeKill, afterExit, tailLines = 0, killOnExit = false }) {
  const children = new Set();
  let stopping = false;
  if (killOnExit) {
    process.on('exit', () => {
      for (const child of children) child.kill('SIGKILL');
    });
  }

  const finish = async (code) => {
    try {
      await afterExit?.();
    } catch (error) {
      say(`envparity: ${error.message}`);
    }
    process.exit(code);
  };

  function start(name, args, env) {
    const logFile = join(logsDir, `${name}.log`);
    const log = createWriteStream(logFile, { flags: 'a' });
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    const tail = [];
    if (tailLines > 0) {
      const remember = (chunk) => {
        for (const line of chunk.toString('utf8').split('\n')) {
          if (line.trim() === '') continue;
          tail.push(line);
          if (tail.length > tailLines) tail.shift();
        }
      };
      child.stdout.on('data', remember);
      child.stderr.on('data', remember);
    }
    child.on('exit', (code, signal) => {
      children.delete(child);
      if (!stopping) {
        const why = `envparity: ${name} exited unexpectedly (${signal ?? `code ${code}`})`;
        if (tailLines > 0) say(`${why}; its last lines:\n${tail.join('\n')}`);
        else say(`${why}; see ${logFile}`);
        stop(1);
      } else if (children.size === 0) {
        say('envparity: stopped.');
        void finish(process.exitCode ?? 0);
      }
    });
    return child;
  }

  function stop(code = 0) {
    if (stopping) return;
    stopping = true;
    process.exitCode = code;
    const kill = () => {
      if (children.size === 0) {
        void finish(code);
        return;
      }
      for (const child of children) child.kill('SIGTERM');
      setTimeout(() => {
        for (const child of children) child.kill('SIGKILL');
      }, 10_000).unref();
    };
    if (!beforeKill) return kill();
    Promise.resolve()
      .then(beforeKill)
      .catch((error) => say(`envparity: ${error.message}`))
      .finally(kill);
  }

  return {
    start,
    stop,
    get stopping() {
      return stopping;
    },
    /** Pids of the running children. */
    pids: () => [...children].map((child) => child.pid),
  };
}
