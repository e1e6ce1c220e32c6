import type { FactMap, ReportMessage } from '@envparity/shared';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { useStoreBackends } from '../../../test/helpers/store-backends.js';
import { hashToken } from '../token-hash.js';
import { replayHostHistory } from './history-compaction.js';
import type { RepositoryFactStore } from './repository-fact-store.js';
import { openSqliteFactStore } from './sqlite-fact-store.js';

const T0 = Date.UTC(2025, 0, 1);
const BACKENDS = useStoreBackends();

function changeRows(store: RepositoryFactStore, hostId: string): number {
  return store.sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM changes WHERE host_id = ?', [hostId])?.n ?? 0;
}

async function enroll(store: RepositoryFactStore, hostId: string, at = T0) {
  await store.enrollHost({
    hostId,
    tokenHash: hashToken(`token-${hostId}-${at}`),
    environment: 'staging',
    labels: {},
    agentVersion: '0.1.0',
    at,
  });
}

function report(seq: number, body: Partial<ReportMessage>): ReportMessage {
  return { type: 'report', seq, observedAt: T0 + seq * 1000, ...body };
}

/** One step of a random history: set/unset some paths of a few categories, sometimes a full report. */
const PATHS = [
  'library.dpkg.openssl',
  'library.dpkg.curl',
  'library.dpkg.libc6',
  'config.env.LOG_LEVEL',
  'config.env.PORT',
  'os.release',
  'os.uptime', // volatile: never recorded as a change, still replayed from the snapshot
  'runtime.node',
];
const valueArb = fc.oneof(fc.constantFrom('1', '2', '3', 'x'), fc.integer({ min: 0, max: 3 }), fc.constant(null));
const stepArb = fc.oneof(
  { weight: 5, arbitrary: fc.record({ set: fc.dictionary(fc.constantFrom(...PATHS), valueArb, { maxKeys: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ unset: fc.uniqueArray(fc.constantFrom(...PATHS), { maxLength: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ full: fc.dictionary(fc.constantFrom(...PATHS), valueArb, { maxKeys: 6 }) }) },
  { weight: 1, arbitrary: fc.constant({ reenroll: true as const }) },
);

function byCategory(facts: FactMap): Record<string, FactMap> {
  const out: Record<string, FactMap> = {};
  for (const [path, value] of Object.entries(facts)) {
    const category = path.split('.')[0] as string;
    out[category] ??= {};
    (out[category] as FactMap)[path] = value;
  }
  return out;
}

type Step = { set?: FactMap; unset?: string[]; full?: FactMap; reenroll?: true };

/** Plays the steps as reports numbered after `afterSeq` (the host's first report); returns how many change rows were recorded. */
async function play(store: RepositoryFactStore, steps: Step[], afterSeq = 1): Promise<number> {
  let recorded = 0;
  let seq = afterSeq;
  let enrolledAt = T0;
  for (const step of steps) {
    if (step.reenroll) {
      enrolledAt += 1;
      await enroll(store, 'web-1', enrolledAt);
      seq = 0;
      continue;
    }
    seq++;
    let body: Partial<ReportMessage>;
    if (step.full) {
      // A full report of every category the step names (others stay as they were).
      body = { full: byCategory(step.full) };
    } else {
      const delta: Record<string, { set: FactMap; unset: string[] }> = {};
      for (const [path, value] of Object.entries(step.set ?? {})) {
        const category = path.split('.')[0] as string;
        delta[category] ??= { set: {}, unset: [] };
        (delta[category] as { set: FactMap }).set[path] = value;
      }
      for (const path of step.unset ?? []) {
        const category = path.split('.')[0] as string;
        delta[category] ??= { set: {}, unset: [] };
        if (!(path in (delta[category] as { set: FactMap }).set))
          (delta[category] as { unset: string[] }).unset.push(path);
      }
      body = { delta };
    }
    recorded += (await store.ingestReport({ hostId: 'web-1', report: report(seq, body), receivedAt: T0 + seq * 1000 }))
      .changes;
  }
  return recorded;
}

describe('per-host history quota, as a property (sqlite: a store per run)', () => {
  it('replaying the initial state and the remaining changes gives the current state (property)', async () => {
    let compactedRuns = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(stepArb, { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 12 }),
        fc.boolean(),
        async (steps, maxChangesPerHost, recordVolatileChanges) => {
          const store = openSqliteFactStore({ flushIntervalMs: 1, maxChangesPerHost, recordVolatileChanges });
          try {
            await enroll(store, 'web-1');
            await store.ingestReport({
              hostId: 'web-1',
              report: report(1, { full: byCategory({ 'os.release': '12', 'os.uptime': 5 }) }),
              receivedAt: T0,
            });
            const recorded = await play(store, steps);
            store.compactHistory();
            if (changeRows(store, 'web-1') < recorded) compactedRuns++;
            expect(changeRows(store, 'web-1')).toBeLessThanOrEqual(maxChangesPerHost);
            // Volatile facts (os.uptime) are not recorded as changes by default, so only the history of
            // the others is complete; with recordVolatileChanges the replay is exact.
            const visible = (facts: FactMap | undefined) =>
              recordVolatileChanges
                ? facts
                : Object.fromEntries(Object.entries(facts ?? {}).filter(([p]) => p !== 'os.uptime'));
            expect(visible(replayHostHistory(store.sql, 'web-1'))).toEqual(visible(store.getHostFacts('web-1')));
            // No blob is left that neither a host nor an initial state points at.
            const orphans = store.sql.get(
              `SELECT COUNT(*) AS n FROM blobs WHERE hash NOT IN (SELECT blob_hash FROM host_categories)
                 AND hash NOT IN (SELECT blob_hash FROM initial_states)`,
            ) as { n: number };
            expect(orphans.n).toBe(0);
            expect(await store.integrityCheck()).toBe('ok');
          } finally {
            await store.close();
          }
        },
      ),
      { numRuns: 60 },
    );
    // Not a vacuous property: most runs went over their quota and were compacted.
    expect(compactedRuns).toBeGreaterThan(20);
  });
});

describe.each(BACKENDS)('per-host history quota (%s)', (_name, backend) => {
  const open = (options = {}) => backend.open(undefined, options);

  it('a host emptied and refilled records the refill as a change, not as a second initial state', async () => {
    // The CI counterexample (seed 199176143): every fact unset, then one set again.
    const store = open({ maxChangesPerHost: 1 });
    await enroll(store, 'web-1');
    await store.ingestReport({
      hostId: 'web-1',
      report: report(1, { full: byCategory({ 'os.release': '12', 'os.uptime': 5 }) }),
      receivedAt: T0,
    });
    await play(store, [{ unset: ['os.release', 'os.uptime'] }, { set: { 'os.release': 0 } }, { reenroll: true }]);
    store.compactHistory();
    expect(store.getHostFacts('web-1')).toEqual({ 'os.release': 0 });
    expect(replayHostHistory(store.sql, 'web-1')).toEqual({ 'os.release': 0 });
  });

  it('compacts on its own after the commit that crossed the quota, down to 90% of it', async () => {
    const store = open({ maxChangesPerHost: 50 });
    await enroll(store, 'web-1');
    await store.ingestReport({
      hostId: 'web-1',
      report: report(1, { full: { library: { 'library.dpkg.n': '0' } } }),
      receivedAt: T0,
    });
    for (let seq = 2; seq <= 80; seq++) {
      await store.ingestReport({
        hostId: 'web-1',
        report: report(seq, { delta: { library: { set: { 'library.dpkg.n': String(seq) }, unset: [] } } }),
        receivedAt: T0,
      });
      // The compaction runs on the next turn of the event loop.
      await new Promise((resolve) => setImmediate(resolve));
      expect(changeRows(store, 'web-1')).toBeLessThanOrEqual(50);
    }
    expect(changeRows(store, 'web-1')).toBeGreaterThanOrEqual(45);
    // The initial state now describes the host just after the last folded change.
    const initial = store.sql.all<{ seq: number; at: number }>('SELECT seq, at FROM initial_states WHERE host_id = ?', [
      'web-1',
    ]);
    const oldest = store.sql.get('SELECT MIN(seq) AS seq FROM changes WHERE host_id = ?', ['web-1']) as {
      seq: number;
    };
    expect(initial).toHaveLength(1);
    expect(initial[0]?.seq).toBe(oldest.seq - 1);
    expect(initial[0]?.at).toBe(T0 + (oldest.seq - 1) * 1000);
    expect(replayHostHistory(store.sql, 'web-1')).toEqual({ 'library.dpkg.n': '80' });
    // The changes API still lists the newest ones, oldest first.
    const listed = await store.listChanges('web-1', { limit: 1000 });
    expect(listed.at(-1)).toMatchObject({ seq: 80, from: '79', to: '80' });
    expect(listed[0]?.seq).toBe(oldest.seq);
  });

  it('compacts a store that was over the quota when it opened, and leaves other hosts alone', async () => {
    const store = open({ maxChangesPerHost: 1000 });
    await enroll(store, 'web-1');
    await enroll(store, 'web-2');
    for (const hostId of ['web-1', 'web-2']) {
      await store.ingestReport({
        hostId,
        report: report(1, { full: { library: { 'library.dpkg.n': '0' } } }),
        receivedAt: T0,
      });
    }
    for (let seq = 2; seq <= 40; seq++) {
      await store.ingestReport({
        hostId: 'web-1',
        report: report(seq, { delta: { library: { set: { 'library.dpkg.n': String(seq) }, unset: [] } } }),
        receivedAt: T0,
      });
    }
    await store.ingestReport({
      hostId: 'web-2',
      report: report(2, { delta: { library: { set: { 'library.dpkg.n': 'b' }, unset: [] } } }),
      receivedAt: T0,
    });
    expect(changeRows(store, 'web-1')).toBe(39);
    // A compactor with a smaller quota over the same database (as after a restart with a new option).
    const { HistoryCompactor } = await import('./history-compaction.js');
    const compactor = new HistoryCompactor({
      sql: store.sql,
      maxChangesPerHost: 10,
      currentCategories: (hostId) => new Map([['library', store.getHostFacts(hostId) as FactMap]]),
    });
    expect(compactor.changeCount('web-1')).toBe(39);
    expect(compactor.runPending()).toBe(39 - 9);
    expect(changeRows(store, 'web-1')).toBe(9);
    expect(changeRows(store, 'web-2')).toBe(1);
    expect(replayHostHistory(store.sql, 'web-1')).toEqual(store.getHostFacts('web-1'));
    expect(replayHostHistory(store.sql, 'web-2')).toEqual(store.getHostFacts('web-2'));
  });
});
