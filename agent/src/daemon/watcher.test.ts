import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ChangeWatcher, createChangeWatcher } from './watcher.js';

let dir: string;
let watcher: ChangeWatcher | undefined;
let changes: string[][];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'envparity-watch-'));
  changes = [];
});
afterEach(async () => {
  watcher?.close();
  watcher = undefined;
  await rm(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a change');
    await sleep(10);
  }
}

function start(target: { dir: string; names?: string[]; tags: string[] }, rearmMs = 5000, debounceMs = 50) {
  watcher = createChangeWatcher({
    targets: [target],
    debounceMs,
    rearmMs,
    onChange: (tags) => changes.push([...tags]),
  });
  return watcher.ready;
}

describe('createChangeWatcher', () => {
  it('sees a file edited in place', async () => {
    await writeFile(join(dir, 'app.yaml'), 'a: 1\n');
    await start({ dir, names: ['app.yaml'], tags: ['config'] });
    await writeFile(join(dir, 'app.yaml'), 'a: 2\n');
    await until(() => changes.length === 1);
    expect(changes).toEqual([['config']]);
  });

  it('sees a file replaced by rename, and keeps watching afterwards', async () => {
    await writeFile(join(dir, 'app.yaml'), 'a: 1\n');
    await start({ dir, names: ['app.yaml'], tags: ['config'] });
    await writeFile(join(dir, 'app.yaml.new'), 'a: 2\n');
    await rename(join(dir, 'app.yaml.new'), join(dir, 'app.yaml'));
    await until(() => changes.length === 1);
    await writeFile(join(dir, 'app.yaml'), 'a: 3\n');
    await until(() => changes.length === 2);
  });

  it('ignores other files of the directory and debounces bursts into one change', async () => {
    await start({ dir, names: ['status'], tags: ['library'] }, 5000, 300);
    await writeFile(join(dir, 'other'), 'x');
    await sleep(400);
    expect(changes).toEqual([]);
    for (let i = 0; i < 5; i++) await writeFile(join(dir, 'status'), `v${i}`);
    await until(() => changes.length === 1);
    await sleep(400);
    expect(changes).toEqual([['library']]);
  });

  it('arms a directory that appears later, and one that is replaced', async () => {
    const later = join(dir, 'later');
    await start({ dir: later, names: ['app.json'], tags: ['config'] }, 50);
    expect(watcher?.watching).toEqual([]);
    await mkdir(later);
    await writeFile(join(later, 'app.json'), '{}');
    await until(() => changes.length >= 1);
    await until(() => watcher?.watching.length === 1);
    await rm(later, { recursive: true });
    await mkdir(later);
    await until(() => watcher?.watching.length === 1 && changes.length >= 2);
    const before = changes.length;
    await writeFile(join(later, 'app.json'), '{"a":1}');
    await until(() => changes.length > before);
  });

  it('stops reporting once closed', async () => {
    await start({ dir, tags: ['app'] });
    watcher?.close();
    await writeFile(join(dir, 'yarn.lock'), 'x');
    await sleep(150);
    expect(changes).toEqual([]);
  });
});

describe('poll targets', () => {
  it('fire their tags when the signature changes, never for the first one or an unchanged one', async () => {
    let signature = 'a';
    let polls = 0;
    watcher = createChangeWatcher({
      targets: [
        {
          poll: async () => {
            polls++;
            if (signature === 'throw') throw new Error('gone');
            return signature;
          },
          intervalMs: 20,
          tags: ['process'],
        },
      ],
      debounceMs: 10,
      onChange: (tags) => changes.push([...tags]),
    });
    await watcher.ready;
    expect(polls).toBe(1);
    await until(() => polls >= 4);
    expect(changes).toEqual([]);
    signature = 'b';
    await until(() => changes.length === 1);
    expect(changes).toEqual([['process']]);
    signature = 'throw';
    await until(() => changes.length === 2);
    const count = polls;
    await until(() => polls >= count + 3);
    expect(changes).toHaveLength(2);
    watcher.close();
    signature = 'c';
    await sleep(80);
    expect(changes).toHaveLength(2);
  });
});
