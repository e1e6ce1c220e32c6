/**
 * The daemon's watch targets for `watch.processes`, `watch.envFiles` and friends, and the process
 * poll against REAL processes: a restart with a changed environment changes the signature.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { validateAgentConfig } from '@envparity/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { watchTargetsFor } from './triggers.js';
import { type ChangeWatcher, createChangeWatcher, type PollTarget, type WatchTarget } from './watcher.js';

const children: ChildProcess[] = [];
let watcher: ChangeWatcher | undefined;

afterEach(async () => {
  watcher?.close();
  watcher = undefined;
  await Promise.all(children.splice(0).map(kill));
});

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

async function startSleep(arg: string, env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn('sleep', [arg], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: 'ignore' });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', reject);
  });
  return child;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const isPoll = (target: WatchTarget): target is PollTarget => 'poll' in target;

describe('watchTargetsFor', () => {
  it('env files are watched like config files; no processes, no poll', async () => {
    const config = validateAgentConfig({
      watch: { envFiles: ['/etc/default/api', { path: 'app.env', format: 'dotenv' }] },
    });
    const targets = await watchTargetsFor(config, { packageDatabases: [], cwd: '/srv/app' });
    expect(targets).toEqual([
      { dir: '/etc/default', names: ['api', '..data'], tags: ['config'] },
      { dir: '/srv/app', names: ['app.env', '..data'], tags: ['config'] },
    ]);
  });

  it('watched processes are one poll target tagged process, whose signature follows a restart with a new env', async () => {
    const arg = `3000.${BigInt(`0x${randomBytes(6).toString('hex')}`)}`;
    const config = validateAgentConfig({
      watch: { envVars: ['LOG_LEVEL'], processes: [{ name: 'app', match: `sleep ${arg}` }] },
    });
    const targets = await watchTargetsFor(config, { packageDatabases: [], processPollMs: 50 });
    const polls = targets.filter(isPoll);
    expect(polls).toHaveLength(1);
    expect(polls[0]?.tags).toEqual(['process']);
    expect(polls[0]?.intervalMs).toBe(50);
    const poll = polls[0] as PollTarget;

    const none = await poll.poll();
    const first = await startSleep(arg, { LOG_LEVEL: 'info' });
    await sleep(50);
    const running = await poll.poll();
    expect(running).not.toBe(none);
    expect(await poll.poll()).toBe(running);

    // The same process, watched by the change watcher: a restart with another env fires `process`.
    const changes: string[][] = [];
    watcher = createChangeWatcher({ targets: polls, debounceMs: 10, onChange: (tags) => changes.push([...tags]) });
    await watcher.ready;
    await sleep(150);
    expect(changes).toEqual([]);
    await kill(first);
    await startSleep(arg, { LOG_LEVEL: 'debug' });
    const deadline = Date.now() + 3000;
    while (changes.length === 0 && Date.now() < deadline) await sleep(20);
    expect(changes[0]).toEqual(['process']);
  });
});
