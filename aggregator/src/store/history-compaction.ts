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
import type Database from 'better-sqlite3';

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

type StatementName =
  | 'count'
  | 'cut'
  | 'timeCut'
  | 'chunkCut'
  | 'hasOlder'
  | 'firstRemaining'
  | 'initialBlobs'
  | 'deleteInitial'
  | 'insertBlob'
  | 'insertInitial'
  | 'deleteChanges'
  | 'deleteUnusedBlob';

/** The compaction's prepared statements (prepared once per store). */
export type CompactionStatements = Record<StatementName, Database.Statement>;

/** Prepares the compaction's statements (once per store). */
export function prepareCompaction(db: Database.Database): CompactionStatements {
  return {
    count: db.prepare('SELECT COUNT(*) AS n FROM changes WHERE host_id = ?'),
    cut: db.prepare('SELECT id, seq, at, environment FROM changes WHERE host_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?'),
    // Retention: the newest change observed before the edge, or the `n`-th oldest (a bounded chunk);
    // both one seek on changes_host_at.
    timeCut: db.prepare(
      'SELECT id, seq, at, environment FROM changes WHERE host_id = ? AND at < ? ORDER BY at DESC, id DESC LIMIT 1',
    ),
    chunkCut: db.prepare(
      'SELECT id, seq, at, environment FROM changes WHERE host_id = ? AND at < ? ORDER BY at, id LIMIT 1 OFFSET ?',
    ),
    hasOlder: db.prepare('SELECT 1 FROM changes WHERE host_id = ? AND at < ? LIMIT 1'),
    // The earliest remaining change of each path (SQLite takes the bare columns from the MIN row).
    firstRemaining: db.prepare(
      'SELECT path, from_value, MIN(id) AS id FROM changes WHERE host_id = ? AND id > ? GROUP BY path',
    ),
    initialBlobs: db.prepare('SELECT DISTINCT blob_hash FROM initial_states WHERE host_id = ?'),
    deleteInitial: db.prepare('DELETE FROM initial_states WHERE host_id = ?'),
    insertBlob: db.prepare('INSERT OR IGNORE INTO blobs (hash, data) VALUES (?, ?)'),
    insertInitial: db.prepare(
      'INSERT INTO initial_states (host_id, seq, at, environment, category, blob_hash) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    deleteChanges: db.prepare('DELETE FROM changes WHERE host_id = ? AND id <= ?'),
    deleteUnusedBlob: db.prepare(
      `DELETE FROM blobs WHERE hash = @hash
         AND NOT EXISTS (SELECT 1 FROM initial_states WHERE blob_hash = @hash)
         AND NOT EXISTS (SELECT 1 FROM host_categories WHERE blob_hash = @hash)`,
    ),
  };
}

/**
 * Folds all but the newest `keep` changes of a host into its initial state, in one transaction.
 * Returns how many change rows were removed (0 when the host has at most `keep`).
 */
export function compactHostHistory(
  db: Database.Database,
  hostId: string,
  keep: number,
  current: CurrentCategories,
  statements: CompactionStatements = prepareCompaction(db),
): number {
  const stmt = statements;
  return db.transaction(() => {
    const total = (stmt.count.get(hostId) as { n: number }).n;
    if (total <= keep) return 0;
    // The newest change to fold: `keep` newer ones remain.
    const cut = stmt.cut.get(hostId, Math.max(0, keep)) as CutRow;
    return foldThrough(hostId, cut, current, stmt);
  })();
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
  db: Database.Database,
  hostId: string,
  edge: number,
  current: CurrentCategories,
  statements: CompactionStatements = prepareCompaction(db),
  maxRows = DEFAULT_RETENTION_CHUNK_ROWS,
): { removed: number; more: boolean } {
  const stmt = statements;
  return db.transaction(() => {
    const chunk = stmt.chunkCut.get(hostId, edge, Math.max(0, Math.floor(maxRows) - 1)) as CutRow | undefined;
    const last = chunk ? undefined : (stmt.timeCut.get(hostId, edge) as CutRow | undefined);
    const cut = chunk ?? last;
    if (!cut) return { removed: 0, more: false };
    const removed = foldThrough(hostId, cut, current, stmt);
    return { removed, more: chunk !== undefined && stmt.hasOlder.get(hostId, edge) !== undefined };
  })();
}

/** Whether a host has changes observed before `edge` (one index seek). */
export function hasChangesBefore(statements: CompactionStatements, hostId: string, edge: number): boolean {
  return statements.hasOlder.get(hostId, edge) !== undefined;
}

/**
 * Replaces a host's initial state with its state just after change `cut` and deletes the changes up
 * to it; inside the caller's transaction.
 */
function foldThrough(hostId: string, cut: CutRow, current: CurrentCategories, stmt: CompactionStatements): number {
  const snapshot = new Map<string, FactMap>();
  for (const [category, facts] of current) snapshot.set(category, { ...facts });
  for (const row of stmt.firstRemaining.all(hostId, cut.id) as { path: string; from_value: string | null }[]) {
    const category = categoryOf(row.path);
    let facts = snapshot.get(category);
    if (!facts) {
      facts = {};
      snapshot.set(category, facts);
    }
    if (row.from_value === null) delete facts[row.path];
    else facts[row.path] = JSON.parse(row.from_value) as FactValue;
  }
  const previous = (stmt.initialBlobs.all(hostId) as { blob_hash: string }[]).map((row) => row.blob_hash);
  stmt.deleteInitial.run(hostId);
  const kept = new Set<string>();
  for (const category of [...snapshot.keys()].sort(compareStrings)) {
    const facts = snapshot.get(category) as FactMap;
    if (Object.keys(facts).length === 0) continue;
    const hash = fingerprintMap(facts);
    kept.add(hash);
    stmt.insertBlob.run(hash, blobJson(facts));
    stmt.insertInitial.run(hostId, cut.seq, cut.at, cut.environment, category, hash);
  }
  const removed = stmt.deleteChanges.run(hostId, cut.id).changes;
  for (const hash of previous) if (!kept.has(hash)) stmt.deleteUnusedBlob.run({ hash });
  return removed;
}

/**
 * A host's state rebuilt from its history alone: the initial state's categories, then every change
 * in the order it was recorded. Equal to the current state (for a host with one initial state, the
 * normal case, and always after a compaction). For tests and operational tooling.
 */
export function replayHostHistory(db: Database.Database, hostId: string): FactMap {
  const facts: FactMap = {};
  const rows = db
    .prepare(
      'SELECT b.data FROM initial_states s JOIN blobs b ON b.hash = s.blob_hash WHERE s.host_id = ? ORDER BY s.id',
    )
    .all(hostId) as { data: string }[];
  for (const row of rows) Object.assign(facts, JSON.parse(row.data) as FactMap);
  const changes = db
    .prepare('SELECT path, to_value FROM changes WHERE host_id = ? ORDER BY id')
    .iterate(hostId) as Iterable<{ path: string; to_value: string | null }>;
  for (const change of changes) {
    if (change.to_value === null) delete facts[change.path];
    else facts[change.path] = JSON.parse(change.to_value) as FactValue;
  }
  return facts;
}

export interface HistoryCompactorOptions {
  db: Database.Database;
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
  private readonly statements: CompactionStatements;
  private immediate: NodeJS.Immediate | undefined;
  private stopped = false;

  constructor(private readonly options: HistoryCompactorOptions) {
    this.maxChangesPerHost = Math.max(1, Math.floor(options.maxChangesPerHost ?? DEFAULT_MAX_CHANGES_PER_HOST));
    const headroom = options.headroom ?? DEFAULT_COMPACTION_HEADROOM;
    this.keep = Math.max(0, this.maxChangesPerHost - Math.max(1, Math.floor(this.maxChangesPerHost * headroom)));
    this.statements = prepareCompaction(options.db);
    const rows = options.db.prepare('SELECT host_id, COUNT(*) AS n FROM changes GROUP BY host_id').all() as {
      host_id: string;
      n: number;
    }[];
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
        const folded = current ? compactHostHistory(this.options.db, hostId, this.keep, current, this.statements) : 0;
        removed += folded;
        if (folded > 0) this.options.onCompacted?.(hostId);
        this.counts.set(hostId, (this.statements.count.get(hostId) as { n: number }).n);
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
