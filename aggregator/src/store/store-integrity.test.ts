import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createAggregator } from '../aggregator.js';
import { parseAggregatorConfig, resolveServeConfig } from '../config.js';
import { hashToken } from '../token-hash.js';
import { openSqliteFactStore, type SqliteFactStore } from './sqlite-fact-store.js';
import {
  CLEAN_SHUTDOWN_KEY,
  HostCountTracker,
  hostCountFileOf,
  readHostCountFile,
  readStoreMeta,
} from './store-integrity.js';

const T0 = Date.UTC(2025, 0, 1);
const dirs: string[] = [];
const stores: SqliteFactStore[] = [];

function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'envparity-integrity-'));
  dirs.push(dir);
  return join(dir, 'envparity.db');
}

function open(path: string, options: Parameters<typeof openSqliteFactStore>[0] = {}): SqliteFactStore {
  const store = openSqliteFactStore({ path, flushIntervalMs: 1, ...options });
  stores.push(store);
  return store;
}

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function enrollHosts(store: SqliteFactStore, count: number): Promise<void> {
  await Promise.all(
    Array.from({ length: count }, (_, i) =>
      store.enrollHost({
        hostId: `web-${i}`,
        tokenHash: hashToken(`token-${i}`),
        environment: 'staging',
        labels: {},
        agentVersion: '0.1.0',
        at: T0,
      }),
    ),
  );
  for (let i = 0; i < count; i++) {
    await store.ingestReport({
      hostId: `web-${i}`,
      report: { type: 'report', seq: 1, observedAt: T0, full: { library: { 'library.dpkg.n': String(i) } } },
      receivedAt: T0,
    });
  }
}

/** Deletes host rows behind the store's back (what a lost write-ahead log amounts to). */
function dropHosts(path: string, keep: number): void {
  const db = new Database(path);
  db.pragma('foreign_keys = ON');
  db.prepare('DELETE FROM hosts WHERE id NOT IN (SELECT id FROM hosts ORDER BY id LIMIT ?)').run(keep);
  db.close();
}

describe('store checks at open', () => {
  it('writes with synchronous=FULL by default, NORMAL on request', () => {
    expect(open(':memory:').db.pragma('synchronous', { simple: true })).toBe(2);
    expect(open(':memory:', { synchronous: 'normal' }).db.pragma('synchronous', { simple: true })).toBe(1);
  });

  it('config keys storeSynchronous and maxChangesPerHost reach the store', async () => {
    const config = resolveServeConfig(parseAggregatorConfig('storeSynchronous: normal\nmaxChangesPerHost: 500\n'));
    expect(config).toMatchObject({ storeSynchronous: 'normal', maxChangesPerHost: 500 });
    expect(() => parseAggregatorConfig('storeSynchronous: off\n')).toThrow(/storeSynchronous/);
    expect(() => parseAggregatorConfig('maxChangesPerHost: 10\n')).toThrow(/maxChangesPerHost/);
    const aggregator = createAggregator({ storeSynchronous: 'normal' });
    try {
      expect((aggregator.store as SqliteFactStore).db.pragma('synchronous', { simple: true })).toBe(1);
    } finally {
      await aggregator.stop();
    }
  });

  it('refuses a database that fails PRAGMA quick_check, naming the file and the problems', async () => {
    const path = tempDb();
    const store = openSqliteFactStore({ path, flushIntervalMs: 1 });
    await enrollHosts(store, 200);
    await store.close();
    // Garbage over a few pages in the middle of the file (not the header page).
    const size = statSync(path).size;
    const fd = openSync(path, 'r+');
    const pageSize = 4096;
    const garbage = Buffer.alloc(pageSize * 3, 0xa5);
    writeSync(fd, garbage, 0, garbage.length, Math.floor(size / pageSize / 2) * pageSize);
    closeSync(fd);
    let error: unknown;
    try {
      open(path);
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'STORE_CORRUPT' });
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toMatch(/fails PRAGMA quick_check \(\d+ problems?: .+\); refusing to start/);
    // Turned off, the same file opens (or fails later, while loading): the check is what refuses it.
    let opened: SqliteFactStore | undefined;
    try {
      opened = open(path, { quickCheckOnOpen: false });
    } catch (caught) {
      expect((caught as { code?: string }).code).not.toBe('STORE_CORRUPT');
    }
    expect(opened?.openReport.quickCheck ?? 'skipped').toBe('skipped');
  });

  it('records the host count at a clean close and reports hosts missing at the next open', async () => {
    const path = tempDb();
    let store = openSqliteFactStore({ path, flushIntervalMs: 1 });
    expect(store.openReport).toMatchObject({ quickCheck: 'ok', hostsAtOpen: 0, expectedHosts: null, missingHosts: 0 });
    await enrollHosts(store, 5);
    await store.close();
    expect(readHostCountFile(hostCountFileOf(path))).toMatchObject({ hosts: 5, clean: true });
    const db = new Database(path, { readonly: true });
    expect(readStoreMeta(db, CLEAN_SHUTDOWN_KEY)).toMatchObject({ hosts: 5, clean: true });
    db.close();

    store = open(path);
    expect(store.openReport).toMatchObject({
      hostsAtOpen: 5,
      expectedHosts: 5,
      missingHosts: 0,
      previousShutdownClean: true,
    });
    await store.close();

    dropHosts(path, 2);
    store = open(path);
    expect(store.openReport).toMatchObject({
      hostsAtOpen: 2,
      expectedHosts: 5,
      expectedFrom: 'sidecar',
      missingHosts: 3,
      previousShutdownClean: true,
    });
    await store.close();
    // Without the sidecar file the clean-shutdown record in store_meta (now 2) is the reference.
    rmSync(hostCountFileOf(path));
    store = open(path);
    expect(store.openReport).toMatchObject({ hostsAtOpen: 2, expectedHosts: 2, expectedFrom: 'clean-shutdown' });
  });

  it('falls back on the clean-shutdown record in store_meta when the sidecar file is gone', async () => {
    const path = tempDb();
    const store = openSqliteFactStore({ path, flushIntervalMs: 1 });
    await enrollHosts(store, 4);
    await store.close();
    rmSync(hostCountFileOf(path));
    dropHosts(path, 1);
    expect(open(path).openReport).toMatchObject({
      hostsAtOpen: 1,
      expectedHosts: 4,
      expectedFrom: 'clean-shutdown',
      missingHosts: 3,
      previousShutdownClean: null,
    });
  });

  it('keeps the sidecar file in step while the store runs, so a crash is detected too', async () => {
    const path = tempDb();
    const file = hostCountFileOf(path);
    let count = 0;
    let now = T0;
    const tracker = new HostCountTracker(
      file,
      () => count,
      () => now,
    );
    tracker.start(10);
    expect(readHostCountFile(file)).toEqual({ hosts: 0, at: T0, clean: false });
    count = 7;
    now = T0 + 1;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(readHostCountFile(file)).toEqual({ hosts: 7, at: T0 + 1, clean: false });
    // A crash: the tracker never records a clean stop; the next open compares with 7.
    tracker.stop(false);
    expect(readHostCountFile(file)?.clean).toBe(false);
    expect((statSync(file).mode & 0o777).toString(8)).toBe('600');
    expect(existsSync(`${file}.tmp`)).toBe(false);
    expect(readFileSync(file, 'utf8').endsWith('\n')).toBe(true);
  });

  it('the aggregator logs missing hosts at error level and exports envparity_store_hosts_missing', async () => {
    const path = tempDb();
    const first = openSqliteFactStore({ path, flushIntervalMs: 1 });
    await enrollHosts(first, 6);
    await first.close();
    dropHosts(path, 0);

    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const aggregator = createAggregator({ dbPath: path, logger });
    try {
      const error = lines.find((line) => line.level === 50);
      expect(error).toMatchObject({ hostsAtOpen: 0, expectedHosts: 6, missingHosts: 6, recordedBy: 'sidecar' });
      expect(String(error?.msg)).toContain('store opened with 0 hosts, 6 fewer than the 6 it recorded before');
      expect(await aggregator.metrics.render()).toMatch(/^envparity_store_hosts_missing 6$/m);
    } finally {
      await aggregator.stop();
    }
    // Once reopened cleanly the gauge is 0 again (the loss was reported when it was found).
    const again = createAggregator({ dbPath: path });
    try {
      expect(await again.metrics.render()).toMatch(/^envparity_store_hosts_missing 0$/m);
    } finally {
      await again.stop();
    }
  });
});
