/**
 * Per-host history quota. A host's history is its initial state (`initial_states`: one row per
 * category pointing at a content-addressed blob) followed by per-path `changes`. A host that
 * changes without pause (a flood, a flapping fact) would grow `changes` without bound (the security
 * review made 1.3 M rows in 10 s), so each host keeps at most `maxChangesPerHost` rows: past it,
 * the oldest changes are folded into the initial state, which then describes the host as it was
 * just after the last folded change. Replaying the new initial state plus the remaining changes
 * still gives the current state (tested as a property); what is lost is the detail of the folded
 * changes (their individual times and intermediate values), exactly what a retention window drops.
 *
 * The snapshot is computed backwards from the current state (held in memory): each path a remaining
 * change touches takes the `from` value of its earliest remaining change, every other path keeps its
 * current value. That needs no replay from the old snapshot, so it is exact whatever happened before
 * (re-enrollments, a host emptied and refilled, facts that were never recorded as changes).
 *
 * Compaction runs after the commit that crossed the quota, on its own transaction, outside the
 * ingest batches (an agent's ack never waits for it), and frees `headroom` of the quota at once so
 * it runs once per that many changes, not after every report.
 */
import { categoryOf, compareStrings, type FactMap, type FactValue, fingerprintMap } from '@envparity/shared';
import type { SqlPort } from './sql-port.js';

/** Default quota of change rows per host (store option `maxChangesPerHost`). */
export const DEFAULT_MAX_CHANGES_PER_HOST = 100_000;
/** Share of the quota one compaction frees: a host over the quota is brought down to 90% of it. */
export const DEFAULT_COMPACTION_HEADROOM = 0.1;

/** A host's current categories: category -> facts (the store's in-memory blobs). */
export type CurrentCategories = ReadonlyMap<string, Readonly<FactMap>>;

interface CutRow {
  id: number;
  seq: number;
  at: number;
  environment: string | null;
}

/** JSON of a category blob as the store writes it: keys in canonical order. */
function blobJson(facts: FactMap): string {
  const sorted: FactMap = {};
  for (const path of Object.keys(facts).sort(compareStrings)) sorted[path] = facts[path] as FactValue;
  return JSON.stringify(sorted);
}

/**
 * The compaction's SQL, portable (sql-port.ts). Retention's cuts (the newest change observed before
 * the edge, or the `n`-th oldest: a bounded chunk) are each one seek on changes_host_at.
 */
const SQL = {
  count: 'SELECT COUNT(*) AS n FROM changes WHERE host_id = ?',
  cut: 'SELECT id, seq, at, environment FROM changes WHERE host_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?',
  timeCut:
    'SELECT id, seq, at, environment FROM changes WHERE host_id = ? AND at < ? ORDER BY at DESC, id DESC LIMIT 1',
  chunkCut:
    'SELECT id, seq, at, environment FROM changes WHERE host_id = ? AND at < ? ORDER BY at, id LIMIT 1 OFFSET ?',
  hasOlder: 'SELECT 1 AS found FROM changes WHERE host_id = ? AND at < ? LIMIT 1',
  // The earliest remaining change of each path.
  firstRemaining: `SELECT c.path, c.from_value FROM changes c
      JOIN (SELECT MIN(id) AS id FROM changes WHERE host_id = ? AND id > ? GROUP BY path) first ON first.id = c.id`,
  initialBlobs: 'SELECT DISTINCT blob_hash FROM initial_states WHERE host_id = ?',
  deleteInitial: 'DELETE FROM initial_states WHERE host_id = ?',
  insertBlob: 'INSERT INTO blobs (hash, data) VALUES (?, ?) ON CONFLICT DO NOTHING',
  insertInitial:
    'INSERT INTO initial_states (host_id, seq, at, environment, category, blob_hash) VALUES (?, ?, ?, ?, ?, ?)',
  deleteChanges: 'DELETE FROM changes WHERE host_id = ? AND id <= ?',
  deleteUnusedBlob: `DELETE FROM blobs WHERE hash = ?
      AND NOT EXISTS (SELECT 1 FROM initial_states WHERE blob_hash = ?)
      AND NOT EXISTS (SELECT 1 FROM host_categories WHERE blob_hash = ?)`,
} as const;

function changeCount(sql: SqlPort, hostId: string): number {
  return sql.get<{ n: number }>(SQL.count, [hostId])?.n ?? 0;
}

/**
 * Folds all but the newest `keep` changes of a host into its initial state, in one transaction.
 * Returns how many change rows were removed (0 when the host has at most `keep`).
 */
export function compactHostHistory(sql: SqlPort, hostId: string, keep: number, current: CurrentCategories): number {
  return sql.transaction(() => {
    if (changeCount(sql, hostId) <= keep) return 0;
    // The newest change to fold: `keep` newer ones remain.
    const cut = sql.get<CutRow>(SQL.cut, [hostId, Math.max(0, keep)]) as CutRow;
    return foldThrough(sql, hostId, cut, current);
  });
}

/** Default most change rows one retention transaction folds for one host (the rest follow in later ones). */
export const DEFAULT_RETENTION_CHUNK_ROWS = 10_000;

/**
 * Retention: folds a host's changes observed before `edge` into its initial state, at most
 * `maxRows` of them in this one transaction. The new initial state is stamped with the time of the
 * newest folded change (the state is exact from then on, so time travel between it and the edge
 * still works). Changes are cut in `at` order, which is recording order as long as the agent's clock
 * did not go back (the ingest clamps skew). `more`: older changes remain (a chunk was cut), call again.
 */
export function compactHostHistoryBefore(
  sql: SqlPort,
  hostId: string,
  edge: number,
  current: CurrentCategories,
  maxRows = DEFAULT_RETENTION_CHUNK_ROWS,
): { removed: number; more: boolean } {
  return sql.transaction(() => {
    const chunk = sql.get<CutRow>(SQL.chunkCut, [hostId, edge, Math.max(0, Math.floor(maxRows) - 1)]);
    const cut = chunk ?? sql.get<CutRow>(SQL.timeCut, [hostId, edge]);
    if (!cut) return { removed: 0, more: false };
    const removed = foldThrough(sql, hostId, cut, current);
    return { removed, more: chunk !== undefined && hasChangesBefore(sql, hostId, edge) };
  });
}

/** Whether a host has changes observed before `edge` (one index seek). */
export function hasChangesBefore(sql: SqlPort, hostId: string, edge: number): boolean {
  return sql.get(SQL.hasOlder, [hostId, edge]) !== undefined;
}

/**
 * Replaces a host's initial state with its state just after change `cut` and deletes the changes up
 * to it; inside the caller's transaction.
 */
function foldThrough(sql: SqlPort, hostId: string, cut: CutRow, current: CurrentCategories): number {
  const snapshot = new Map<string, FactMap>();
  for (const [category, facts] of current) snapshot.set(category, { ...facts });
  for (const row of sql.all<{ path: string; from_value: string | null }>(SQL.firstRemaining, [hostId, cut.id])) {
    const category = categoryOf(row.path);
    let facts = snapshot.get(category);
    if (!facts) {
      facts = {};
      snapshot.set(category, facts);
    }
    if (row.from_value === null) delete facts[row.path];
    else facts[row.path] = JSON.parse(row.from_value) as FactValue;
  }
  const previous = sql.all<{ blob_hash: string }>(SQL.initialBlobs, [hostId]).map((row) => row.blob_hash);
  sql.run(SQL.deleteInitial, [hostId]);
  const kept = new Set<string>();
  for (const category of [...snapshot.keys()].sort(compareStrings)) {
    const facts = snapshot.get(category) as FactMap;
    if (Object.keys(facts).length === 0) continue;
    const hash = fingerprintMap(facts);
    kept.add(hash);
    sql.run(SQL.insertBlob, [hash, blobJson(facts)]);
    sql.run(SQL.insertInitial, [hostId, cut.seq, cut.at, cut.environment, category, hash]);
  }
  const removed = sql.run(SQL.deleteChanges, [hostId, cut.id]);
  for (const hash of previous) if (!kept.has(hash)) sql.run(SQL.deleteUnusedBlob, [hash, hash, hash]);
  return removed;
}

/**
 * A host's state rebuilt from its history alone: the initial state's categories, then every change
 * in the order it was recorded. Equal to the current state (for a host with one initial state, the
 * normal case, and always after a compaction). For tests and operational tooling.
 */
export function replayHostHistory(sql: SqlPort, hostId: string): FactMap {
  const facts: FactMap = {};
  const rows = sql.all<{ data: string }>(
    'SELECT b.data FROM initial_states s JOIN blobs b ON b.hash = s.blob_hash WHERE s.host_id = ? ORDER BY s.id',
    [hostId],
  );
  for (const row of rows) Object.assign(facts, JSON.parse(row.data) as FactMap);
  const changes = sql.all<{ path: string; to_value: string | null }>(
    'SELECT path, to_value FROM changes WHERE host_id = ? ORDER BY id',
    [hostId],
  );
  for (const change of changes) {
    if (change.to_value === null) delete facts[change.path];
    else facts[change.path] = JSON.parse(change.to_value) as FactValue;
  }
  return facts;
}

export interface HistoryCompactorOptions {
  sql: SqlPort;
  maxChangesPerHost?: number;
  headroom?: number;
  /** The host's current categories (memory), or undefined when it is unknown. */
  currentCategories(hostId: string): CurrentCategories | undefined;
  onError?: (error: unknown) => void;
  /** A host's initial state moved (its stored history now starts later). */
  onCompacted?: (hostId: string) => void;
}

/**
 * Keeps every host under the quota: counts change rows per host (loaded once at open, then from the
 * commits), and compacts the hosts over it on the next turn of the event loop.
 */
export class HistoryCompactor {
  readonly maxChangesPerHost: number;
  private readonly keep: number;
  private readonly counts = new Map<string, number>();
  private readonly pending = new Set<string>();
  private immediate: NodeJS.Immediate | undefined;
  private stopped = false;

  constructor(private readonly options: HistoryCompactorOptions) {
    this.maxChangesPerHost = Math.max(1, Math.floor(options.maxChangesPerHost ?? DEFAULT_MAX_CHANGES_PER_HOST));
    const headroom = options.headroom ?? DEFAULT_COMPACTION_HEADROOM;
    this.keep = Math.max(0, this.maxChangesPerHost - Math.max(1, Math.floor(this.maxChangesPerHost * headroom)));
    const rows = options.sql.all<{ host_id: string; n: number }>(
      'SELECT host_id, COUNT(*) AS n FROM changes GROUP BY host_id',
    );
    for (const row of rows) this.noteChanges(row.host_id, row.n);
  }

  /** Change rows of a host as far as the compactor knows. */
  changeCount(hostId: string): number {
    return this.counts.get(hostId) ?? 0;
  }

  /** `count` change rows of the host were folded by someone else (retention). */
  noteFolded(hostId: string, count: number): void {
    const left = (this.counts.get(hostId) ?? 0) - count;
    if (left > 0) this.counts.set(hostId, left);
    else this.counts.delete(hostId);
  }

  /** `count` change rows were committed for the host. */
  noteChanges(hostId: string, count: number): void {
    if (count <= 0) return;
    const total = (this.counts.get(hostId) ?? 0) + count;
    this.counts.set(hostId, total);
    if (total > this.maxChangesPerHost && !this.stopped) {
      this.pending.add(hostId);
      this.immediate ??= setImmediate(() => {
        this.immediate = undefined;
        this.runPending();
      });
    }
  }

  /** Compacts every host over the quota now; returns the change rows removed. */
  runPending(): number {
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
    let removed = 0;
    for (const hostId of [...this.pending]) {
      this.pending.delete(hostId);
      const current = this.options.currentCategories(hostId);
      try {
        const folded = current ? compactHostHistory(this.options.sql, hostId, this.keep, current) : 0;
        removed += folded;
        if (folded > 0) this.options.onCompacted?.(hostId);
        this.counts.set(hostId, changeCount(this.options.sql, hostId));
      } catch (error) {
        this.options.onError?.(error);
      }
    }
    return removed;
  }

  stop(): void {
    this.stopped = true;
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
    this.pending.clear();
  }
}
