import type { FactMap } from '@envparity/shared';
import { describe, expect, it } from 'vitest';
import { type StoreBackend, useStoreBackends } from '../../../test/helpers/store-backends.js';
import { deltaReport, fullReport, T0 } from '../../testing/drift-fleet.js';
import { replayChanges } from '../queries/state-at.js';
import { hashToken } from '../token-hash.js';
import { replayHostHistory } from './history-compaction.js';
import { HistoryRetention } from './history-retention.js';
import type { RepositoryFactStore } from './repository-fact-store.js';
import type { FactStoreOptions } from './store-options.js';

const DAY = 86_400_000;
const BACKENDS = useStoreBackends();

function openWith(backend: StoreBackend, clock: { now: number }, options: FactStoreOptions = {}): RepositoryFactStore {
  return backend.open(undefined, {
    changeRetentionMs: 400 * DAY,
    // Passes run when the test says so.
    retentionStartDelayMs: 3_600_000,
    now: () => clock.now,
    ...options,
  });
}

function count(store: RepositoryFactStore, sql: string, ...args: unknown[]): number {
  return store.sql.get<{ n: number }>(sql, args)?.n ?? 0;
}

/** One host reporting once a day from day `from` to day `to`: library.dpkg.n = day, config.env.WEEK = week. */
async function reportDaily(store: RepositoryFactStore, hostId: string, from: number, to: number): Promise<void> {
  if (!store.getHost(hostId)) {
    await store.enrollHost({
      hostId,
      tokenHash: hashToken(hostId),
      environment: 'production',
      labels: {},
      agentVersion: '0.1.0',
      at: T0,
    });
    await store.ingestReport({
      hostId,
      report: fullReport(1, T0 + from * DAY, { 'library.dpkg.n': String(from), 'config.env.WEEK': 0, 'os.uptime': 1 }),
      receivedAt: T0 + from * DAY,
    });
    from++;
  }
  for (let day = from; day <= to; day++) {
    const seq = (store.getHost(hostId)?.lastSeq ?? 0) + 1;
    const set: FactMap = { 'library.dpkg.n': String(day), 'os.uptime': day };
    if (day % 7 === 0) set['config.env.WEEK'] = day / 7;
    await store.ingestReport({ hostId, report: deltaReport(seq, T0 + day * DAY, set), receivedAt: T0 + day * DAY });
  }
}

/** The facts the daily reporter held at the end of `day`, volatile ones aside. */
function expectedAt(day: number): FactMap {
  return { 'config.env.WEEK': Math.floor(day / 7), 'library.dpkg.n': String(day) };
}

async function stateAt(store: RepositoryFactStore, hostId: string, at: number): Promise<FactMap> {
  const initial = await store.getInitialState(hostId);
  if (!initial || at < initial.at) throw new Error(`no history at ${at}`);
  const facts = replayChanges(initial.facts, await store.listChanges(hostId, { until: at, limit: 100_000 }));
  delete facts['os.uptime'];
  return facts;
}

describe.each(BACKENDS)('time-based retention of the change history (%s)', (_name, backend) => {
  const open = (clock: { now: number }, options: FactStoreOptions = {}) => openWith(backend, clock, options);

  it('folds changes older than the edge into the initial state; state at the edge and now unchanged, rows bounded', async () => {
    const clock = { now: T0 };
    const store = open(clock);
    await reportDaily(store, 'web-1', 0, 500);
    clock.now = T0 + 500 * DAY;
    const edge = T0 + 100 * DAY;
    expect(store.retentionEdge()).toBe(edge);
    const beforeEdge = await stateAt(store, 'web-1', edge);
    const beforeNow = await stateAt(store, 'web-1', clock.now);
    expect(beforeEdge).toEqual(expectedAt(100));
    expect(count(store, 'SELECT COUNT(*) AS n FROM changes')).toBeGreaterThan(500);

    const removed = await store.compactRetention();
    expect(removed).toBeGreaterThan(0);
    expect(count(store, 'SELECT COUNT(*) AS n FROM changes WHERE at < ?', edge)).toBe(0);
    // Days 100..500 remain (library every day, the weekly config change too).
    expect(count(store, 'SELECT COUNT(*) AS n FROM changes WHERE path = ?', 'library.dpkg.n')).toBe(401);
    const initial = await store.getInitialState('web-1');
    // The new start is the last folded change (day 99): the state is exact from then on.
    expect(initial?.at).toBe(T0 + 99 * DAY);
    expect(initial?.facts).toMatchObject(expectedAt(99));
    expect(await stateAt(store, 'web-1', edge)).toEqual(beforeEdge);
    expect(await stateAt(store, 'web-1', edge - 1)).toEqual(expectedAt(99));
    expect(await stateAt(store, 'web-1', clock.now)).toEqual(beforeNow);
    await expect(stateAt(store, 'web-1', T0 + 98 * DAY)).rejects.toThrow(/no history/);
    expect(replayHostHistory(store.sql, 'web-1')['library.dpkg.n']).toBe('500');
    expect((await store.historyStarts()).get('web-1')).toEqual({ at: T0 + 99 * DAY, environment: 'production' });

    // A hundred more days, a pass every ten: the store stays at about the retention's worth of rows.
    for (let day = 501; day <= 600; day += 10) {
      await reportDaily(store, 'web-1', day, day + 9);
      clock.now = T0 + (day + 9) * DAY;
      await store.compactRetention();
      expect(count(store, 'SELECT COUNT(*) AS n FROM changes WHERE path = ?', 'library.dpkg.n')).toBe(401);
    }
    // PostgreSQL deletes blobs let go of at its collection (another aggregator may still point at one).
    store.collectUnusedBlobs(0);
    const blobs = count(store, 'SELECT COUNT(*) AS n FROM blobs');
    const held = count(
      store,
      `SELECT COUNT(*) AS n FROM blobs WHERE hash IN (SELECT blob_hash FROM host_categories)
         OR hash IN (SELECT blob_hash FROM initial_states)`,
    );
    expect(blobs).toBe(held);
    expect(blobs).toBeLessThanOrEqual(6);
    expect(await store.integrityCheck()).toBe('ok');
  });

  it('leaves a host whose history is all within the window alone, and does nothing without retention', async () => {
    const clock = { now: T0 };
    const store = open(clock);
    await reportDaily(store, 'old', 0, 10);
    await reportDaily(store, 'young', 300, 310);
    clock.now = T0 + 500 * DAY;
    await store.compactRetention();
    expect((await store.getInitialState('young'))?.at).toBe(T0 + 300 * DAY);
    expect(count(store, 'SELECT COUNT(*) AS n FROM changes WHERE host_id = ?', 'young')).toBeGreaterThan(10);
    expect(count(store, 'SELECT COUNT(*) AS n FROM changes WHERE host_id = ?', 'old')).toBe(0);
    // Every change folded: the start is the last one, and the state there is the current one.
    expect((await store.getInitialState('old'))?.at).toBe(T0 + 10 * DAY);
    expect(await stateAt(store, 'old', clock.now)).toEqual(expectedAt(10));

    const keepAll = open(clock, { changeRetentionMs: null });
    await reportDaily(keepAll, 'web-1', 0, 20);
    expect(keepAll.retentionEdge()).toBeNull();
    expect(await keepAll.compactRetention()).toBe(0);
    expect(count(keepAll, 'SELECT COUNT(*) AS n FROM changes WHERE path = ?', 'library.dpkg.n')).toBe(20);
  });

  it('runs on its own after open and then periodically', async () => {
    const clock = { now: T0 };
    const store = open(clock, { retentionStartDelayMs: 1, retentionIntervalMs: 5 });
    await reportDaily(store, 'web-1', 0, 30);
    clock.now = T0 + 410 * DAY;
    const until = async (check: () => boolean) => {
      for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(check()).toBe(true);
    };
    const library = () => count(store, 'SELECT COUNT(*) AS n FROM changes WHERE path = ?', 'library.dpkg.n');
    // Edge day 10: days 10..30 stay.
    await until(() => library() === 21);
    clock.now = T0 + 420 * DAY;
    await until(() => library() === 11);
  });

  it('folds a large backlog in bounded chunks and slices, with the same outcome', async () => {
    const clock = { now: T0 };
    const store = open(clock);
    await reportDaily(store, 'web-1', 0, 200);
    await reportDaily(store, 'web-2', 0, 50);
    clock.now = T0 + 600 * DAY;
    let turns = 0;
    const folds: number[] = [];
    const retention = new HistoryRetention({
      sql: store.sql,
      retentionMs: 450 * DAY,
      now: () => clock.now,
      currentCategories: (hostId) => {
        turns++;
        const facts = store.getHostFacts(hostId) ?? {};
        const byCategory = new Map<string, FactMap>();
        for (const [path, value] of Object.entries(facts)) {
          const category = path.split('.')[0] as string;
          byCategory.set(category, { ...byCategory.get(category), [path]: value });
        }
        return byCategory;
      },
      onFolded: (_hostId, removed) => folds.push(removed),
      chunkRows: 25,
      sliceMs: 0,
    });
    const before = await stateAt(store, 'web-1', T0 + 150 * DAY);
    const removed = await retention.run();
    retention.stop();
    expect(Math.max(...folds)).toBeLessThanOrEqual(25);
    expect(folds.reduce((a, b) => a + b, 0)).toBe(removed);
    expect(turns).toBeGreaterThan(5);
    expect(count(store, 'SELECT COUNT(*) AS n FROM changes WHERE at < ?', T0 + 150 * DAY)).toBe(0);
    expect((await store.getInitialState('web-1'))?.at).toBe(T0 + 149 * DAY);
    expect(await stateAt(store, 'web-1', T0 + 150 * DAY)).toEqual(before);
    expect(count(store, 'SELECT COUNT(*) AS n FROM changes WHERE host_id = ?', 'web-2')).toBe(0);
    expect(await stateAt(store, 'web-2', clock.now)).toEqual(expectedAt(50));
  });
});
