/**
 * The process collector against REAL processes of this machine: `sleep` and `node` children with
 * their own environment, read through /proc. Each child carries a unique argv marker, so the
 * regexes never match another test's processes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import {
  type AgentConfig,
  type AgentConfigInput,
  createClassifier,
  type FactMap,
  factPath,
  validateAgentConfig,
} from '@envparity/shared';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execCommand } from '../exec.js';
import { createSecretHasher, SECRET_HASH_PREFIX } from '../secrets.js';
import { createProcessCollector, type ProcessCollectorOptions, protectArgv } from './process.js';
import { parseCmdline, parseEnviron, parseStat, parseStatusIds } from './process-proc.js';
import type { CollectorContext } from './types.js';

const CANARY = 'canary-process-secret';
const children: ChildProcess[] = [];
let workDir: string;

beforeAll(async () => {
  workDir = await realpath(await mkdtemp(join(tmpdir(), 'envparity-process-')));
  return () => rm(workDir, { recursive: true, force: true });
});

afterEach(async () => {
  await Promise.all(children.splice(0).map(killChild));
});

function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** A unique `sleep` argument: GNU sleep takes fractions, so the marker is a valid duration. */
const marker = () => `3000.${BigInt(`0x${randomBytes(6).toString('hex')}`)}`;

async function startSleep(arg: string, env: Record<string, string>, cwd = workDir): Promise<ChildProcess> {
  const child = spawn('sleep', [arg], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    cwd,
    stdio: 'ignore',
  });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', reject);
  });
  // exec done: /proc/<pid>/cmdline shows sleep's argv, not node's (the fork's).
  await waitUntil(async () => (await readCmdline(child.pid as number)).startsWith('sleep'));
  return child;
}

async function readCmdline(pid: number): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  try {
    return parseCmdline(await readFile(`/proc/${pid}/cmdline`)).join(' ');
  } catch {
    return '';
  }
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

interface Run {
  facts: FactMap;
  errors: string[];
}

function makeRunner(input: AgentConfigInput, options: ProcessCollectorOptions = {}, key = 'test-fleet-key') {
  const config: AgentConfig = validateAgentConfig(input);
  const collector = createProcessCollector(options);
  return async (): Promise<Run> => {
    const errors: string[] = [];
    const signal = new AbortController().signal;
    const context: CollectorContext = {
      config,
      secrets: createSecretHasher(key, config.secrets),
      signal,
      exec: (file, args, execOptions = {}) => execCommand(file, args, { signal, ...execOptions }),
      reportError: (message) => errors.push(message),
    };
    return { facts: await collector.collect(context), errors };
  };
}

const p = (name: string, ...segments: string[]) => factPath('process', name, ...segments);

describe('process collector', () => {
  it("reports a matching process's env (filtered, secrets hashed), argv, exe, cwd, user, limits and count", async () => {
    const arg = marker();
    const child = await startSleep(arg, { LOG_LEVEL: 'debug', DB_PASSWORD: CANARY, UNWATCHED: 'x' });
    const run = makeRunner({
      watch: {
        envVars: ['LOG_LEVEL', 'DB_*'],
        processes: [{ name: 'app', match: `^sleep ${arg.replace('.', '\\.')}$` }],
      },
    });
    const { facts, errors } = await run();
    expect(errors).toEqual([]);
    expect(facts[p('app', 'env', 'LOG_LEVEL')]).toBe('debug');
    expect(facts[p('app', 'env', 'DB_PASSWORD')]).toMatch(new RegExp(`^${SECRET_HASH_PREFIX}[0-9a-f]{64}$`));
    expect(facts[p('app', 'env', 'UNWATCHED')]).toBeUndefined();
    expect(facts[p('app', 'env', 'PATH')]).toBeUndefined();
    expect(facts[p('app', 'argv')]).toEqual(['sleep', arg]);
    expect(facts[p('app', 'exe')]).toMatch(/\/sleep$/);
    expect(facts[p('app', 'cwd')]).toBe(workDir);
    expect(facts[p('app', 'user')]).toBe(userInfo().username);
    expect(typeof facts[p('app', 'group')]).toBe('string');
    const nofile = facts[p('app', 'limit', 'nofile')];
    expect(typeof nofile === 'number' || nofile === 'unlimited').toBe(true);
    expect(facts[p('app', 'limit', 'stack')]).toBeDefined();
    expect(facts[p('app', 'count')]).toBe(1);
    expect(facts[p('app', 'pid')]).toBe(child.pid);
    expect(facts[p('app', 'stale')]).toBeUndefined();
    // A compiled program: no runtime facts.
    expect(facts[p('app', 'runtime', 'name')]).toBeUndefined();
    expect(JSON.stringify(facts)).not.toContain(CANARY);
  });

  it('classes: count is scale, pid and stale are volatile, env and argv are behavior', () => {
    const classify = createClassifier();
    expect(classify(p('app', 'count'))).toBe('scale');
    expect(classify(p('app', 'pid'))).toBe('volatile');
    expect(classify(p('app', 'stale'))).toBe('volatile');
    expect(classify(p('app', 'limit', 'nproc'))).toBe('scale');
    expect(classify(p('app', 'env', 'LOG_LEVEL'))).toBe('behavior');
    expect(classify(p('app', 'argv'))).toBe('behavior');
    expect(classify(p('app', 'limit', 'nofile'))).toBe('behavior');
  });

  it('several matches: the count, and the facts of the oldest process', async () => {
    const arg = marker();
    await startSleep(arg, { LOG_LEVEL: 'first' });
    // Start times are in clock ticks (10 ms): make the second one clearly younger.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await startSleep(arg, { LOG_LEVEL: 'second' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await startSleep(arg, { LOG_LEVEL: 'third' });
    const run = makeRunner({ watch: { envVars: ['LOG_LEVEL'], processes: [{ name: 'web', match: `sleep ${arg}` }] } });
    for (let i = 0; i < 3; i++) {
      const { facts } = await run();
      expect(facts[p('web', 'count')]).toBe(3);
      expect(facts[p('web', 'env', 'LOG_LEVEL')]).toBe('first');
      expect(facts[p('web', 'pid')]).toBe(children[0]?.pid);
    }
  });

  it('a pid file, with per-process envVars', async () => {
    const child = await startSleep(marker(), { LOG_LEVEL: 'warn', FEATURE_X: 'on' });
    const pidFile = join(workDir, 'app.pid');
    await writeFile(pidFile, `${child.pid}\n`);
    const run = makeRunner({
      watch: { envVars: ['LOG_LEVEL'], processes: [{ name: 'api', pidFile, envVars: ['FEATURE_*'] }] },
    });
    const { facts, errors } = await run();
    expect(errors).toEqual([]);
    expect(facts[p('api', 'env', 'FEATURE_X')]).toBe('on');
    expect(facts[p('api', 'env', 'LOG_LEVEL')]).toBeUndefined();
    expect(facts[p('api', 'count')]).toBe(1);
  });

  it('a node process: its runtime and version, reused from the agent without a spawn', async () => {
    const tag = `envparity-node-${randomBytes(6).toString('hex')}`;
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)', tag], {
      env: { LOG_LEVEL: 'info' },
      stdio: 'ignore',
    });
    children.push(child);
    await waitUntil(async () => (await readCmdline(child.pid as number)).includes(tag));
    const run = makeRunner({ watch: { envVars: ['LOG_LEVEL'], processes: [{ name: 'node', match: tag }] } });
    const { facts } = await run();
    expect(facts[p('node', 'runtime', 'name')]).toBe('node');
    expect(facts[p('node', 'runtime', 'version')]).toBe(process.versions.node);
    expect(facts[p('node', 'argv')]).toEqual([expect.stringMatching(/node/), '-e', 'setInterval(() => {}, 1e6)', tag]);
    expect(facts[p('node', 'env', 'LOG_LEVEL')]).toBe('info');
  });

  it('a process that goes away: count 0, an error, the last facts kept marked stale; a new one is read afresh', async () => {
    const arg = marker();
    const first = await startSleep(arg, { LOG_LEVEL: 'info' });
    const run = makeRunner({ watch: { envVars: ['LOG_LEVEL'], processes: [{ name: 'app', match: `sleep ${arg}` }] } });
    const before = await run();
    expect(before.facts[p('app', 'env', 'LOG_LEVEL')]).toBe('info');

    await killChild(first);
    const gone = await run();
    expect(gone.facts[p('app', 'count')]).toBe(0);
    expect(gone.facts[p('app', 'stale')]).toBe(true);
    expect(gone.facts[p('app', 'env', 'LOG_LEVEL')]).toBe('info');
    expect(gone.facts[p('app', 'argv')]).toEqual(['sleep', arg]);
    expect(gone.facts[p('app', 'pid')]).toBeUndefined();
    expect(gone.errors).toHaveLength(1);
    expect(gone.errors[0]).toMatch(/^process app \(match \/sleep .+\/\): no process matches .*marked stale$/);

    await startSleep(arg, { LOG_LEVEL: 'debug' });
    const after = await run();
    expect(after.errors).toEqual([]);
    expect(after.facts[p('app', 'stale')]).toBeUndefined();
    expect(after.facts[p('app', 'env', 'LOG_LEVEL')]).toBe('debug');
    expect(after.facts[p('app', 'count')]).toBe(1);
  });

  it('nothing ever matched: count 0 and an error, no stale facts', async () => {
    const run = makeRunner({ watch: { processes: [{ name: 'ghost', match: `sleep ${marker()}` }] } });
    const { facts, errors } = await run();
    expect(facts).toEqual({ [p('ghost', 'count')]: 0 });
    expect(errors).toEqual([expect.stringContaining('process ghost (match /sleep 3000.')]);
    expect(errors[0]).toContain('no process matches');
  });

  it('an unreadable environ (a fake /proc entry): the error names the file, the last facts stay stale', async () => {
    const arg = marker();
    const child = await startSleep(arg, { LOG_LEVEL: 'info' });
    const pid = child.pid as number;
    const fakeProc = join(workDir, 'proc');
    const entry = join(fakeProc, String(pid));
    await mkdir(entry, { recursive: true });
    const { readFile } = await import('node:fs/promises');
    for (const name of ['cmdline', 'environ', 'status', 'limits', 'stat']) {
      await writeFile(join(entry, name), await readFile(`/proc/${pid}/${name}`));
    }
    const run = makeRunner(
      { watch: { envVars: ['LOG_LEVEL'], processes: [{ name: 'app', match: `sleep ${arg}` }] } },
      { procRoot: fakeProc },
    );
    const ok = await run();
    expect(ok.errors).toEqual([]);
    expect(ok.facts[p('app', 'env', 'LOG_LEVEL')]).toBe('info');
    // As root, permission bits do not stop reads: a directory in place of the file fails like EACCES would.
    await rm(join(entry, 'environ'));
    await mkdir(join(entry, 'environ'));
    const broken = await run();
    expect(broken.facts[p('app', 'count')]).toBe(1);
    expect(broken.facts[p('app', 'stale')]).toBe(true);
    expect(broken.facts[p('app', 'env', 'LOG_LEVEL')]).toBe('info');
    expect(broken.errors).toEqual([expect.stringMatching(new RegExp(`pid ${pid}: cannot read environ: EISDIR`))]);
  });

  it('a systemd unit: its cgroup lists the pids; without systemd, an error that says so', async () => {
    const child = await startSleep(marker(), { LOG_LEVEL: 'info' });
    const cgroupRoot = join(workDir, 'cgroup');
    await mkdir(join(cgroupRoot, 'system.slice', 'api.service'), { recursive: true });
    await writeFile(join(cgroupRoot, 'system.slice', 'api.service', 'cgroup.procs'), `${child.pid}\n`);
    const noSystemd = join(workDir, 'no-systemd');
    const run = makeRunner(
      {
        watch: {
          envVars: ['LOG_LEVEL'],
          processes: [
            { name: 'api', unit: 'api' },
            { name: 'db', unit: 'db.service' },
          ],
        },
      },
      { cgroupRoot, systemdRunDir: noSystemd },
    );
    const { facts, errors } = await run();
    expect(facts[p('api', 'env', 'LOG_LEVEL')]).toBe('info');
    expect(facts[p('api', 'count')]).toBe(1);
    expect(facts[p('db', 'count')]).toBe(0);
    expect(errors).toEqual(['process db (unit db.service): unit db.service: systemd is not running on this host']);
  });

  it('secret hashes follow the fleet key and match the config env collector', async () => {
    const arg = marker();
    await startSleep(arg, { DB_PASSWORD: CANARY });
    const config = { watch: { envVars: ['DB_*'], processes: [{ name: 'app', match: `sleep ${arg}` }] } };
    const a = await makeRunner(config, {}, 'key-a')();
    const b = await makeRunner(config, {}, 'key-b')();
    const path = p('app', 'env', 'DB_PASSWORD');
    expect(a.facts[path]).toBe(createSecretHasher('key-a', []).hash(CANARY));
    expect(a.facts[path]).not.toBe(b.facts[path]);
  });
});

describe('protectArgv', () => {
  const secrets = createSecretHasher('k', ['*PASSWORD*', '*TOKEN*']);
  it('hashes secret-named flag values, inline or as the next item', () => {
    const argv = protectArgv(
      ['node', '--db-password=hunter2', '--api-token', 'abc', '--port', '80', 'X_TOKEN=t'],
      secrets,
    );
    expect(argv).toEqual([
      'node',
      `--db-password=${secrets.hash('hunter2')}`,
      '--api-token',
      secrets.hash('abc'),
      '--port',
      '80',
      `X_TOKEN=${secrets.hash('t')}`,
    ]);
  });
  it('caps long argv with one sha256 item', () => {
    const argv = protectArgv(
      Array.from({ length: 100 }, (_, i) => `a${i}`),
      secrets,
    ) as string[];
    expect(argv).toHaveLength(64);
    expect(argv[62]).toBe('a62');
    expect(argv[63]).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe('/proc parsers', () => {
  it('parseStat counts fields after the last parenthesis of the command name', () => {
    const stat =
      '4242 (my (weird) cmd) S 17 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1234 56 18446744073709551615';
    expect(parseStat(stat)).toEqual({ ppid: 17, startTime: 987654 });
  });
  it('parseEnviron keeps the first of duplicate names and values with =', () => {
    expect(parseEnviron('A=1\0B=x=y\0A=2\0\0broken\0')).toEqual({ A: '1', B: 'x=y' });
  });
  it('parseCmdline and parseStatusIds', () => {
    expect(parseCmdline('node\0server.js\0--port\0\0')).toEqual(['node', 'server.js', '--port', '']);
    expect(parseCmdline('')).toEqual([]);
    expect(parseStatusIds('Name:\tx\nUid:\t1000\t1001\t1000\t1000\nGid:\t50\t51\t50\t50\n')).toEqual({
      uid: 1001,
      gid: 51,
    });
  });
});
