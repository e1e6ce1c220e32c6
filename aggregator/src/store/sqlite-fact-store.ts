/**
 * FactStore on better-sqlite3 (one file, WAL). Why it looks the way it does:
 * - category facts are content-addressed blobs (hash = `fingerprintMap()` of the category), so the
 *   same package list on 500 hosts is stored and held in memory once;
 * - every host's current state lives in an in-memory cache (host -> category -> blob hash, and
 *   blob hash -> one shared frozen FactMap), so an unchanged host costs a last-seen update and the
 *   drift engine reads all facts without touching the disk;
 * - reports and enrollments are buffered and committed together, one transaction per ~50 ms (or per
 *   N operations, and never more than a time budget of work before yielding to the event loop), and
 *   each caller is resolved only after its transaction committed: that is when the agent gets `ack`
 *   or `enrolled`;
 * - a host's first report is its initial state: one `initial_states` row per category pointing at the
 *   category's blob, not hundreds of per-path "added" changes;
 * - history after that is a list of per-path changes stamped with the agent's observation time.
 */
import { closeSync, existsSync, openSync, statSync } from 'node:fs';
import {
  applyDelta,
  type Classifier,
  categoryOf,
  compareStrings,
  createClassifier,
  diffFacts,
  type FactMap,
  type FactValue,
  factMapsEqual,
  findReportPathProblem,
  fingerprintMap,
  MAX_HOST_PATHS,
} from '@envparity/shared';
import Database from 'better-sqlite3';
import { StoreError } from '../errors.js';
import { type NewApiToken, SqliteApiTokenRepository } from './api-token-repository.js';
import { ENROLL_SECRET_ACTOR, SqliteAuditLog } from './audit-log.js';
import {
  behaviorEncoding,
  type CategoryPiece,
  categoryFingerprint,
  composeFingerprints,
  type HostFingerprints,
} from './compose-fingerprints.js';
import { SqliteDriftEventRepository } from './drift-event-repository.js';
import { SqliteExceptionRepository } from './exception-repository.js';
import type {
  ApiTokenRecord,
  ChangeQuery,
  DriftEventQuery,
  DriftWrite,
  EnrollInput,
  EnrollResult,
  ExceptionRecord,
  FactChange,
  FactStore,
  FileException,
  HostInfo,
  HostView,
  IngestInput,
  IngestResult,
  NewException,
  StoredDriftEvent,
  StoreEvent,
  StoreListener,
} from './fact-store.js';
import { PRESENCE_RETIRED_BY } from './fact-store.js';
import { DEFAULT_MAX_CHANGES_PER_HOST, HistoryCompactor } from './history-compaction.js';
import { SqliteHostAdmission } from './host-admission.js';
import { type Applied, type BatchWork, IngestBatcher } from './ingest-batcher.js';
import { migrate } from './migrations.js';
import {
  assertQuickCheck,
  CLEAN_SHUTDOWN_KEY,
  checkHostCount,
  HostCountTracker,
  hostCountFileOf,
  readHostCountFile,
  type StoreOpenReport,
  writeStoreMeta,
} from './store-integrity.js';
import { valueColumn } from './value-columns.js';

/** Longest time a report waits in the buffer before its transaction commits. */
export const DEFAULT_FLUSH_INTERVAL_MS = 50;
/** A buffer of this many reports commits at once, without waiting for the interval. */
export const DEFAULT_FLUSH_MAX_REPORTS = 256;
/** Work one transaction may do before committing and letting the event loop run (the rest follows at once). */
export const DEFAULT_FLUSH_BUDGET_MS = 25;
/** Last-seen updates alone (heartbeats) are coalesced over this long. */
export const DEFAULT_TOUCH_FLUSH_MS = 1000;
/** How long a write waits for a lock held by another connection (e.g. a backup) before failing. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

const EMPTY_FACTS: Readonly<FactMap> = Object.freeze({});
const EMPTY_CATEGORY_HASH = fingerprintMap({});

export interface SqliteFactStoreOptions {
  /** Database file, or `:memory:` (the default) for tests. */
  path?: string;
  /** Decides fact classes for fingerprints and change recording (user overrides applied). */
  classify?: Classifier;
  /**
   * Record changes of `volatile` facts (uptime, free memory, addresses) in the history too. Off by
   * default: they change on every pass and would drown the timeline without telling anything.
   */
  recordVolatileChanges?: boolean;
  flushIntervalMs?: number;
  flushMaxReports?: number;
  flushBudgetMs?: number;
  touchFlushMs?: number;
  busyTimeoutMs?: number;
  /** Where failing event listeners are reported (and background work: history compaction, the host-count file). */
  onListenerError?: (error: unknown) => void;
  /** Per-host quota of change rows; older changes are folded into the initial state (history-compaction.ts). */
  maxChangesPerHost?: number;
  /** Paths one host may hold over all its categories (default MAX_HOST_PATHS); a report past it is refused. */
  maxHostPaths?: number;
  /**
   * `full` (default): every commit is fsynced before the agents it acknowledges get their `ack`, so an
   * acknowledged report survives a power loss. `normal`: WAL commits are not fsynced (a process crash
   * loses nothing, a power loss can lose the last transactions although they were acknowledged).
   */
  synchronous?: StoreSynchronous;
  /** `PRAGMA quick_check` at open, refusing a damaged file (default true; store-integrity.ts). */
  quickCheckOnOpen?: boolean;
  /** The host-count sidecar file (default `<path>-meta.json` for a file, none for `:memory:`); null: none. */
  hostCountFile?: string | null;
}

/** `PRAGMA synchronous` of the store's connection. */
export type StoreSynchronous = 'full' | 'normal';
export const DEFAULT_STORE_SYNCHRONOUS: StoreSynchronous = 'full';

function pathsIn(facts: Readonly<FactMap> | undefined): number {
  return facts === undefined ? 0 : Object.keys(facts).length;
}

/** The cache's mutable form of a HostView. */
interface HostState {
  id: string;
  environment: string | null;
  labels: Record<string, string>;
  enrolledAt: number;
  lastSeq: number;
  lastSeen: number | null;
  agentVersion: string | null;
  fingerprint: string | null;
  fingerprints: Record<string, string>;
  categories: Map<string, string>;
  factsVersion: number;
  /** The host has an initial state: later reports are changes, even after every category was emptied. */
  hasInitialState: boolean;
  /** Paths over all categories: a report that would take the host past `maxHostPaths` is refused. */
  pathCount: number;
  meta: unknown;
  tokenHash: string | null;
  retiredAt: number | null;
  retiredBy: string | null;
}

interface BlobEntry {
  facts: Readonly<FactMap>;
  /** How many (host, category) rows point at this blob; at 0 the blob is deleted. */
  refs: number;
}

/** Cached per content-addressed blob (so never stale): see compose-fingerprints.ts. */
interface BlobEncoding {
  encoding: string;
  fingerprint: string | undefined;
}

interface HostRow {
  id: string;
  environment: string | null;
  labels: string;
  token_hash: string | null;
  enrolled_at: number;
  last_seq: number;
  last_seen: number | null;
  agent_version: string | null;
  fingerprint: string | null;
  fingerprints: string;
  meta: string | null;
  retired_at: number | null;
  retired_by: string | null;
}

interface ChangeRow {
  host_id: string;
  seq: number;
  at: number;
  path: string;
  from_value: string | null;
  to_value: string | null;
  emergency: number;
}

/** A frozen copy of a fact map with its keys in canonical order (also the stored JSON's order). */
function canonicalCopy(facts: FactMap): Readonly<FactMap> {
  const copy: FactMap = {};
  for (const path of Object.keys(facts).sort(compareStrings)) {
    const value = facts[path] as FactValue;
    copy[path] = Array.isArray(value) ? (Object.freeze([...value]) as FactValue) : value;
  }
  return Object.freeze(copy);
}

/** `record[key]` for own keys only: category names such as `constructor` must not reach Object.prototype. */
function ownValue<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function cloneHost(host: HostState): HostState {
  return { ...host, categories: new Map(host.categories) };
}

function bump(counts: Map<string, number>, key: string, by: number): void {
  counts.set(key, (counts.get(key) ?? 0) + by);
}

/**
 * Uncommitted state of one flush: hosts are copied on first use and blob reference counts are
 * tracked as deltas, so a failed transaction leaves the cache exactly as it was.
 */
class Batch {
  readonly hosts = new Map<string, HostState>();
  readonly newBlobs = new Map<string, Readonly<FactMap>>();
  readonly refDelta = new Map<string, number>();
  /** Hosts whose categories changed: their fingerprints are recomputed once, at the end. */
  readonly changedHosts = new Set<string>();
  /** Token changes of enrollments, applied to the token index in order after the commit. */
  readonly tokens: { hostId: string; previous: string | null; next: string }[] = [];
  readonly environments = new Set<string>();

  constructor(
    private readonly hostCache: Map<string, HostState>,
    private readonly blobCache: Map<string, BlobEntry>,
    /** Last-seen times (heartbeats) this batch writes. */
    readonly touches: ReadonlyMap<string, number>,
  ) {}

  host(id: string): HostState | undefined {
    let host = this.hosts.get(id);
    if (!host) {
      const cached = this.hostCache.get(id);
      if (!cached) return undefined;
      host = cloneHost(cached);
      this.hosts.set(id, host);
    }
    return host;
  }

  blob(hash: string): Readonly<FactMap> | undefined {
    return this.newBlobs.get(hash) ?? this.blobCache.get(hash)?.facts;
  }
}

/** Every statement the store runs, prepared once. */
function prepareStatements(db: Database.Database) {
  return {
    insertHost: db.prepare(
      `INSERT INTO hosts (id, environment, labels, token_hash, enrolled_at, last_seq, last_seen, agent_version, fingerprint, fingerprints)
       VALUES (@id, @environment, @labels, @tokenHash, @at, 0, @at, @agentVersion, NULL, '{}')`,
    ),
    reenrollHost: db.prepare(
      `UPDATE hosts SET environment = @environment, labels = @labels, token_hash = @tokenHash, enrolled_at = @at,
         last_seq = 0, last_seen = @at, agent_version = @agentVersion WHERE id = @id`,
    ),
    updateHostInfo: db.prepare(
      'UPDATE hosts SET environment = @environment, labels = @labels, agent_version = @agentVersion WHERE id = @id',
    ),
    updateHostSeq: db.prepare('UPDATE hosts SET last_seq = ?, last_seen = ?, meta = ? WHERE id = ?'),
    updateHostFingerprints: db.prepare('UPDATE hosts SET fingerprint = ?, fingerprints = ? WHERE id = ?'),
    replaceHostToken: db.prepare('UPDATE hosts SET token_hash = ? WHERE id = ?'),
    touchHost: db.prepare('UPDATE hosts SET last_seen = MAX(COALESCE(last_seen, 0), ?) WHERE id = ?'),
    retireHost: db.prepare('UPDATE hosts SET retired_at = ?, retired_by = ? WHERE id = ? AND retired_at IS NULL'),
    unretireHost: db.prepare('UPDATE hosts SET retired_at = NULL, retired_by = NULL WHERE id = ? AND retired_by = ?'),
    insertBlob: db.prepare('INSERT OR IGNORE INTO blobs (hash, data) VALUES (?, ?)'),
    // A blob an initial state points at stays stored (history), even when no host holds it any more.
    deleteBlob: db.prepare(
      'DELETE FROM blobs WHERE hash = @hash AND NOT EXISTS (SELECT 1 FROM initial_states WHERE blob_hash = @hash)',
    ),
    getBlobData: db.prepare('SELECT data FROM blobs WHERE hash = ?'),
    insertInitialState: db.prepare(
      'INSERT INTO initial_states (host_id, seq, at, environment, category, blob_hash) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    initialBlobs: db.prepare('SELECT DISTINCT blob_hash FROM initial_states WHERE environment = ? AND category = ?'),
    upsertCategory: db.prepare(
      `INSERT INTO host_categories (host_id, category, blob_hash) VALUES (?, ?, ?)
       ON CONFLICT (host_id, category) DO UPDATE SET blob_hash = excluded.blob_hash`,
    ),
    deleteCategory: db.prepare('DELETE FROM host_categories WHERE host_id = ? AND category = ?'),
    insertChange: db.prepare(
      'INSERT INTO changes (host_id, seq, at, path, from_value, to_value, environment) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    listChanges: db.prepare(
      'SELECT host_id, seq, at, path, from_value, to_value, emergency FROM changes WHERE host_id = ? AND at >= ? ORDER BY at, id LIMIT ?',
    ),
    environmentHadValue: db.prepare(
      'SELECT 1 FROM changes WHERE environment = ? AND path = ? AND to_value = ? LIMIT 1',
    ),
    markEmergency: db.prepare('UPDATE changes SET emergency = 1 WHERE host_id = ? AND seq = ? AND path = ?'),
    insertEnvironment: db.prepare('INSERT OR IGNORE INTO environments (name, first_seen) VALUES (?, ?)'),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

/** Opens (creating and migrating as needed) a SQLite fact store and loads its cache. */
export function openSqliteFactStore(options: SqliteFactStoreOptions = {}): SqliteFactStore {
  return new SqliteFactStore(options);
}

export class SqliteFactStore implements FactStore {
  /** The underlying connection; exposed for tests and operational tooling, not for the app. */
  readonly db: Database.Database;
  readonly path: string;
  private readonly classify: Classifier;
  private readonly recordVolatileChanges: boolean;
  private readonly maxHostPaths: number;
  private readonly flushIntervalMs: number;
  private readonly touchFlushMs: number;
  private readonly onListenerError: (error: unknown) => void;
  /** Admin actions and enrollments (append-only). */
  readonly audit: SqliteAuditLog;
  readonly admission: SqliteHostAdmission;
  private readonly driftEvents: SqliteDriftEventRepository;
  private readonly exceptions: SqliteExceptionRepository;
  private readonly apiTokens: SqliteApiTokenRepository;
  /** What the checks at open found (quick_check, host count against the last record). */
  readonly openReport: StoreOpenReport;
  private readonly compactor: HistoryCompactor;
  private readonly hostCount: HostCountTracker | undefined;

  private readonly hosts = new Map<string, HostState>();
  private readonly blobs = new Map<string, BlobEntry>();
  private readonly hostByToken = new Map<string, string>();
  /** Behavior encoding (and its fingerprint) per blob hash: see compose-fingerprints.ts. */
  private readonly encodings = new Map<string, BlobEncoding>();
  private readonly listeners = new Set<StoreListener>();
  private readonly environments = new Set<string>();

  /** Last-seen times of heartbeats, written with the next batch. */
  private touches = new Map<string, number>();
  private closed = false;

  private readonly stmt: Statements;
  private readonly batcher: IngestBatcher<Batch, StoreEvent>;

  constructor({
    path = ':memory:',
    classify = createClassifier(),
    recordVolatileChanges = false,
    flushIntervalMs = DEFAULT_FLUSH_INTERVAL_MS,
    flushMaxReports = DEFAULT_FLUSH_MAX_REPORTS,
    flushBudgetMs = DEFAULT_FLUSH_BUDGET_MS,
    touchFlushMs = DEFAULT_TOUCH_FLUSH_MS,
    busyTimeoutMs = DEFAULT_BUSY_TIMEOUT_MS,
    onListenerError = () => {},
    maxChangesPerHost = DEFAULT_MAX_CHANGES_PER_HOST,
    maxHostPaths = MAX_HOST_PATHS,
    synchronous = DEFAULT_STORE_SYNCHRONOUS,
    quickCheckOnOpen = true,
    hostCountFile,
  }: SqliteFactStoreOptions = {}) {
    this.path = path;
    this.classify = classify;
    this.recordVolatileChanges = recordVolatileChanges;
    this.maxHostPaths = maxHostPaths;
    this.flushIntervalMs = flushIntervalMs;
    this.touchFlushMs = touchFlushMs;
    this.onListenerError = onListenerError;
    try {
      // A new database file starts private (facts, token hashes); SQLite gives -wal/-shm the same mode.
      if (path !== ':memory:' && path !== '' && !existsSync(path)) closeSync(openSync(path, 'a', 0o600));
      this.db = new Database(path);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
      this.db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
      this.db.pragma('foreign_keys = ON');
      if (quickCheckOnOpen) assertQuickCheck(this.db, path);
      migrate(this.db);
    } catch (cause) {
      (this as { db?: Database.Database }).db?.close();
      if (cause instanceof StoreError) throw cause;
      throw new StoreError('STORE_FAILED', `cannot open the database ${path}: ${(cause as Error).message}`, { cause });
    }
    this.stmt = prepareStatements(this.db);
    this.batcher = new IngestBatcher<Batch, StoreEvent>(this.batchWork(), {
      intervalMs: flushIntervalMs,
      maxWrites: flushMaxReports,
      budgetMs: flushBudgetMs,
    });
    try {
      this.load();
      this.audit = new SqliteAuditLog(this.db);
      this.admission = new SqliteHostAdmission(this.db);
      this.driftEvents = new SqliteDriftEventRepository(this.db);
      this.exceptions = new SqliteExceptionRepository(this.db);
      this.apiTokens = new SqliteApiTokenRepository(this.db);
      this.compactor = new HistoryCompactor({
        db: this.db,
        maxChangesPerHost,
        currentCategories: (hostId) => this.currentCategories(hostId),
        onError: (error) => this.onListenerError(error),
      });
      const memory = path === ':memory:' || path === '';
      const sidecar = hostCountFile === undefined ? (memory ? null : hostCountFileOf(path)) : hostCountFile;
      const previous = sidecar === null ? undefined : readHostCountFile(sidecar);
      this.openReport = checkHostCount(this.db, this.hosts.size, previous, quickCheckOnOpen ? 'ok' : 'skipped');
      if (sidecar !== null) {
        this.hostCount = new HostCountTracker(
          sidecar,
          () => this.hosts.size,
          Date.now,
          (error) => this.onListenerError(error),
        );
        this.hostCount.start();
      }
    } catch (cause) {
      this.db.close();
      throw new StoreError('STORE_FAILED', `cannot load the database ${path}: ${(cause as Error).message}`, { cause });
    }
  }

  /** A host's current categories with their facts (for history compaction). */
  private currentCategories(hostId: string): Map<string, Readonly<FactMap>> | undefined {
    const host = this.hosts.get(hostId);
    if (!host) return undefined;
    const categories = new Map<string, Readonly<FactMap>>();
    for (const [category, hash] of host.categories)
      categories.set(category, this.blobs.get(hash)?.facts ?? EMPTY_FACTS);
    return categories;
  }

  /** Folds the oldest changes of hosts over `maxChangesPerHost` into their initial state now (normally on the next tick). */
  compactHistory(): number {
    this.assertOpen();
    return this.compactor.runPending();
  }

  /** Fills the cache from the database, drops unreferenced blobs and refreshes fingerprints for the current classes. */
  private load(): void {
    for (const row of this.db.prepare('SELECT * FROM hosts').all() as HostRow[]) {
      this.hosts.set(row.id, {
        id: row.id,
        environment: row.environment,
        labels: JSON.parse(row.labels) as Record<string, string>,
        enrolledAt: row.enrolled_at,
        lastSeq: row.last_seq,
        lastSeen: row.last_seen,
        agentVersion: row.agent_version,
        fingerprint: row.fingerprint,
        fingerprints: JSON.parse(row.fingerprints) as Record<string, string>,
        categories: new Map(),
        factsVersion: 0,
        hasInitialState: false,
        pathCount: 0,
        meta: row.meta === null ? undefined : JSON.parse(row.meta),
        tokenHash: row.token_hash,
        retiredAt: row.retired_at,
        retiredBy: row.retired_by,
      });
      if (row.token_hash) this.hostByToken.set(row.token_hash, row.id);
    }
    for (const row of this.db.prepare('SELECT DISTINCT host_id FROM initial_states').all() as { host_id: string }[]) {
      const host = this.hosts.get(row.host_id);
      if (host) host.hasInitialState = true;
    }
    for (const row of this.db.prepare('SELECT name FROM environments').all() as { name: string }[]) {
      this.environments.add(row.name);
    }
    const refs = new Map<string, number>();
    const rows = this.db.prepare('SELECT host_id, category, blob_hash FROM host_categories').all() as {
      host_id: string;
      category: string;
      blob_hash: string;
    }[];
    for (const row of rows) {
      this.hosts.get(row.host_id)?.categories.set(row.category, row.blob_hash);
      bump(refs, row.blob_hash, 1);
    }
    const orphans: string[] = [];
    for (const row of this.db.prepare('SELECT hash, data FROM blobs').iterate() as Iterable<{
      hash: string;
      data: string;
    }>) {
      const count = refs.get(row.hash);
      // Unheld blobs are deleted (unless an initial state points at them) and not loaded.
      if (count === undefined) orphans.push(row.hash);
      else this.blobs.set(row.hash, { facts: canonicalCopy(JSON.parse(row.data) as FactMap), refs: count });
    }
    for (const host of this.hosts.values()) {
      for (const hash of host.categories.values()) host.pathCount += pathsIn(this.blobs.get(hash)?.facts);
    }
    this.db.transaction(() => {
      for (const hash of orphans) this.stmt.deleteBlob.run({ hash });
      for (const host of this.hosts.values()) {
        const { fingerprint, fingerprints } = this.computeFingerprints(host, (hash) => this.blobs.get(hash)?.facts);
        if (fingerprint !== host.fingerprint || JSON.stringify(fingerprints) !== JSON.stringify(host.fingerprints)) {
          host.fingerprint = fingerprint;
          host.fingerprints = fingerprints;
          this.stmt.updateHostFingerprints.run(fingerprint, JSON.stringify(fingerprints), host.id);
        }
      }
    })();
  }

  private computeFingerprints(
    host: HostState,
    blobOf: (hash: string) => Readonly<FactMap> | undefined,
  ): HostFingerprints {
    const pieces: CategoryPiece[] = [];
    for (const [category, hash] of host.categories) {
      const facts = blobOf(hash) ?? EMPTY_FACTS;
      let cached = this.encodings.get(hash);
      if (cached === undefined) {
        cached = { encoding: behaviorEncoding(facts, this.classify), fingerprint: undefined };
        this.encodings.set(hash, cached);
      }
      // The category's own fingerprint is computed once per blob, and only the overall one per host.
      cached.fingerprint ??= categoryFingerprint(cached.encoding);
      pieces.push({ category, facts, encoding: cached.encoding, fingerprint: cached.fingerprint });
    }
    return composeFingerprints(pieces, this.classify);
  }

  private mergeFacts(host: HostState, blobOf: (hash: string) => Readonly<FactMap> | undefined): FactMap {
    const merged: FactMap = {};
    for (const category of [...host.categories.keys()].sort(compareStrings)) {
      const facts = blobOf(host.categories.get(category) as string);
      if (facts) Object.assign(merged, facts);
    }
    return merged;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError('STORE_CLOSED', 'the fact store is closed');
  }

  // --- writes ----------------------------------------------------------------------------------

  /**
   * Enrollments are batched with reports: the host row commits with the next transaction (no flush of
   * its own), and the caller is resolved after that commit, before the agent is sent `enrolled`.
   * Reports of a previous enrollment still buffered are ahead in the queue, so they land before the
   * seq numbering restarts.
   */
  enrollHost(input: EnrollInput): Promise<EnrollResult> {
    if (this.closed) return Promise.reject(new StoreError('STORE_CLOSED', 'the fact store is closed'));
    // An agent waits for `enrolled`: never longer than the default interval, whatever the report batching.
    const delayMs = Math.min(this.flushIntervalMs, DEFAULT_FLUSH_INTERVAL_MS);
    return this.batcher.enqueue(
      `cannot enroll host ${input.hostId}`,
      (batch) => this.applyEnroll(input, batch),
      delayMs,
    );
  }

  /** One enrollment inside its savepoint: the host row first, then the batch state. */
  private applyEnroll(input: EnrollInput, batch: Batch): Applied<EnrollResult, StoreEvent> {
    const existing = batch.host(input.hostId);
    const previousEnvironment = existing?.environment ?? null;
    const previousToken = existing?.tokenHash ?? null;
    const params = {
      id: input.hostId,
      environment: input.environment,
      labels: JSON.stringify(input.labels),
      tokenHash: input.tokenHash,
      at: input.at,
      agentVersion: input.agentVersion,
    };
    try {
      if (existing) this.stmt.reenrollHost.run(params);
      else this.stmt.insertHost.run(params);
      if (input.environment !== null) this.stmt.insertEnvironment.run(input.environment, input.at);
      // In the enrollment's own savepoint: an enrollment is never stored without its audit entry.
      this.audit.appendSync({
        at: input.at,
        actor: ENROLL_SECRET_ACTOR,
        action: existing ? 'host.reenrolled' : 'host.enrolled',
        source: input.source ?? null,
        details: { hostId: input.hostId, environment: input.environment, agentVersion: input.agentVersion },
      });
    } catch (cause) {
      throw new StoreError('STORE_FAILED', `cannot enroll host ${input.hostId}: ${(cause as Error).message}`, {
        cause,
      });
    }
    // `existing` is the batch's own copy: a re-enrollment keeps the facts, the seq numbering restarts.
    const host: HostState = existing ?? {
      id: input.hostId,
      environment: null,
      labels: {},
      enrolledAt: input.at,
      lastSeq: 0,
      lastSeen: input.at,
      agentVersion: null,
      fingerprint: null,
      fingerprints: {},
      categories: new Map(),
      factsVersion: 0,
      hasInitialState: false,
      pathCount: 0,
      meta: undefined,
      tokenHash: null,
      retiredAt: null,
      retiredBy: null,
    };
    Object.assign(host, {
      environment: input.environment,
      labels: { ...input.labels },
      enrolledAt: input.at,
      lastSeq: 0,
      lastSeen: input.at,
      agentVersion: input.agentVersion,
      tokenHash: input.tokenHash,
    });
    batch.hosts.set(host.id, host);
    batch.tokens.push({ hostId: host.id, previous: previousToken, next: input.tokenHash });
    if (input.environment !== null) batch.environments.add(input.environment);
    return {
      result: { reenrolled: existing !== undefined },
      event: {
        type: 'host-enrolled',
        hostId: host.id,
        reenrolled: existing !== undefined,
        environment: input.environment,
        previousEnvironment,
        at: input.at,
      },
    };
  }

  async replaceHostToken(hostId: string, tokenHash: string): Promise<void> {
    this.assertOpen();
    const host = this.hosts.get(hostId);
    if (!host) throw new StoreError('UNKNOWN_HOST', `host ${hostId} is not enrolled`);
    try {
      this.stmt.replaceHostToken.run(tokenHash, hostId);
    } catch (cause) {
      throw new StoreError('STORE_FAILED', `cannot replace the token of ${hostId}: ${(cause as Error).message}`, {
        cause,
      });
    }
    if (host.tokenHash !== null && this.hostByToken.get(host.tokenHash) === hostId) {
      this.hostByToken.delete(host.tokenHash);
    }
    this.hostByToken.set(tokenHash, hostId);
    this.hosts.set(hostId, { ...cloneHost(host), tokenHash });
  }

  findHostByTokenHash(tokenHash: string): string | undefined {
    return this.hostByToken.get(tokenHash);
  }

  async updateHostInfo(hostId: string, info: HostInfo): Promise<void> {
    this.assertOpen();
    const host = this.hosts.get(hostId);
    if (!host) throw new StoreError('UNKNOWN_HOST', `host ${hostId} is not enrolled`);
    const labels = JSON.stringify(info.labels);
    if (
      host.environment === info.environment &&
      host.agentVersion === info.agentVersion &&
      JSON.stringify(host.labels) === labels
    ) {
      return;
    }
    try {
      this.db.transaction(() => {
        this.stmt.updateHostInfo.run({
          id: hostId,
          environment: info.environment,
          labels,
          agentVersion: info.agentVersion,
        });
        if (info.environment !== null) this.stmt.insertEnvironment.run(info.environment, Date.now());
      })();
    } catch (cause) {
      throw new StoreError('STORE_FAILED', `cannot update host ${hostId}: ${(cause as Error).message}`, { cause });
    }
    this.hosts.set(hostId, {
      ...cloneHost(host),
      environment: info.environment,
      labels: { ...info.labels },
      agentVersion: info.agentVersion,
    });
    if (info.environment !== null) this.environments.add(info.environment);
    this.emit({
      type: 'host-updated',
      hostId,
      environment: info.environment,
      previousEnvironment: host.environment,
    });
  }

  ingestReport(input: IngestInput): Promise<IngestResult> {
    if (this.closed) return Promise.reject(new StoreError('STORE_CLOSED', 'the fact store is closed'));
    return this.batcher.enqueue('cannot store report', (batch) => this.applyReport(input, batch));
  }

  touchHost(hostId: string, at: number): void {
    if (this.closed) return;
    const host = this.hosts.get(hostId);
    if (!host) return;
    if (host.lastSeen === null || host.lastSeen < at) host.lastSeen = at;
    this.touches.set(hostId, Math.max(this.touches.get(hostId) ?? 0, at));
    this.batcher.schedule(this.touchFlushMs);
  }

  async flush(): Promise<void> {
    this.batcher.flush(Number.POSITIVE_INFINITY);
  }

  /** The store's side of the ingest batcher: a batch over the cache, its last writes, its commit. */
  private batchWork(): BatchWork<Batch, StoreEvent> {
    // One wrapper for both, built once: better-sqlite3 runs a nested call as a savepoint, so one bad
    // report rolls back alone.
    const inTransaction = this.db.transaction((fn: () => unknown) => fn());
    return {
      transaction: (fn) => inTransaction(fn),
      savepoint: <T>(fn: () => T) => inTransaction(fn) as T,
      pending: () => this.touches.size > 0,
      begin: () => {
        const batch = new Batch(this.hosts, this.blobs, this.touches);
        this.touches = new Map();
        return batch;
      },
      finish: (batch) => this.finishBatch(batch),
      committed: (batch) => this.commitBatch(batch),
      failed: (batch) => {
        for (const hash of batch.newBlobs.keys()) if (!this.blobs.has(hash)) this.encodings.delete(hash);
        // Keep the last-seen times for the next attempt.
        for (const [hostId, at] of batch.touches) {
          this.touches.set(hostId, Math.max(this.touches.get(hostId) ?? 0, at));
        }
      },
      changedHosts: (batch) => batch.changedHosts.size,
      writeError: (error, what) =>
        error instanceof StoreError
          ? error
          : new StoreError('STORE_FAILED', `${what}: ${(error as Error).message}`, { cause: error }),
      commitError: (cause) => new StoreError('STORE_FAILED', `commit failed: ${(cause as Error).message}`, { cause }),
      emit: (event) => this.emit(event),
    };
  }

  /** One report inside its savepoint: writes first, then (only if they all succeeded) the batch state. */
  private applyReport(input: IngestInput, batch: Batch): Applied<IngestResult, StoreEvent> {
    const { hostId, report, receivedAt } = input;
    const host = batch.host(hostId);
    if (!host) throw new StoreError('UNKNOWN_HOST', `host ${hostId} is not enrolled`);
    if (report.seq <= host.lastSeq) {
      return { result: { seq: report.seq, applied: false, lastSeq: host.lastSeq, resync: [], changes: 0 } };
    }
    const problem = input.pathsChecked ? undefined : findReportPathProblem(report);
    if (problem) throw new StoreError('STORE_FAILED', `report ${report.seq} rejected: ${problem}`);

    // Only the first report with facts is the initial state; a host emptied and refilled records changes.
    const initial = !host.hasInitialState;
    const categories = new Map(host.categories);
    const newBlobs = new Map<string, Readonly<FactMap>>();
    const refDelta = new Map<string, number>();
    const changes: FactChange[] = [];
    const touched: string[] = [];
    let pathCount = host.pathCount;
    const names = new Set([...Object.keys(report.full ?? {}), ...Object.keys(report.delta ?? {})]);
    for (const category of [...names].sort(compareStrings)) {
      const beforeHash = categories.get(category);
      const before =
        beforeHash === undefined ? EMPTY_FACTS : (newBlobs.get(beforeHash) ?? batch.blob(beforeHash) ?? EMPTY_FACTS);
      const full = report.full && ownValue(report.full, category);
      let after: Readonly<FactMap> = full ?? before;
      const delta = report.delta && ownValue(report.delta, category);
      if (delta) after = applyDelta(after, delta);
      let afterHash: string;
      // Most hosts send categories other hosts hold already (same image): when the fingerprint the
      // agent claims names a stored blob with the same facts, that blob is the category, with no
      // encoding, hashing, copying or write. Anything else is hashed here, whatever the agent claims.
      const claimed = full && !delta ? report.fingerprints && ownValue(report.fingerprints, category) : undefined;
      const stored = claimed === undefined ? undefined : (newBlobs.get(claimed) ?? batch.blob(claimed));
      if (claimed !== undefined && stored !== undefined && factMapsEqual(stored, after)) {
        after = stored;
        afterHash = claimed;
      } else afterHash = fingerprintMap(after);
      if (afterHash === (beforeHash ?? EMPTY_CATEGORY_HASH)) continue;
      touched.push(category);
      pathCount += pathsIn(after) - pathsIn(before);
      // The first report is the host's initial state (recorded per category below), not a change.
      if (!initial) {
        for (const difference of diffFacts(before, after, { classify: this.classify })) {
          if (difference.class === 'volatile' && !this.recordVolatileChanges) continue;
          const change: FactChange = { hostId, seq: report.seq, at: report.observedAt, path: difference.path };
          if (difference.from !== undefined) change.from = difference.from;
          if (difference.to !== undefined) change.to = difference.to;
          changes.push(change);
        }
      }
      if (beforeHash !== undefined) bump(refDelta, beforeHash, -1);
      if (Object.keys(after).length === 0) {
        categories.delete(category);
      } else {
        categories.set(category, afterHash);
        bump(refDelta, afterHash, 1);
        if (!newBlobs.has(afterHash) && batch.blob(afterHash) === undefined)
          newBlobs.set(afterHash, canonicalCopy(after));
      }
    }
    if (pathCount > this.maxHostPaths && pathCount > host.pathCount) {
      // Checked before any write: the report is refused whole, the host keeps what it had.
      throw new StoreError(
        'REPORT_REJECTED',
        `report ${report.seq} rejected: the host would hold ${pathCount} paths, over the ${this.maxHostPaths}-path limit per host`,
      );
    }
    const resync: string[] = [];
    for (const [category, fingerprint] of Object.entries(report.fingerprints ?? {})) {
      if ((categories.get(category) ?? EMPTY_CATEGORY_HASH) !== fingerprint) resync.push(category);
    }
    resync.sort(compareStrings);

    // Writes. Blobs first: host_categories references them.
    for (const [hash, facts] of newBlobs) this.stmt.insertBlob.run(hash, JSON.stringify(facts));
    for (const category of touched) {
      const hash = categories.get(category);
      if (hash === undefined) this.stmt.deleteCategory.run(hostId, category);
      else {
        this.stmt.upsertCategory.run(hostId, category, hash);
        if (initial) {
          this.stmt.insertInitialState.run(hostId, report.seq, report.observedAt, host.environment, category, hash);
        }
      }
    }
    for (const change of changes) {
      this.stmt.insertChange.run(
        hostId,
        change.seq,
        change.at,
        change.path,
        valueColumn(change.from),
        valueColumn(change.to),
        host.environment,
      );
    }
    const lastSeen = Math.max(host.lastSeen ?? 0, receivedAt);
    const meta = report.meta ?? host.meta;
    this.stmt.updateHostSeq.run(report.seq, lastSeen, meta === undefined ? null : JSON.stringify(meta), hostId);

    // State, only now that every write succeeded.
    host.categories = categories;
    if (touched.length > 0) host.factsVersion++;
    host.pathCount = pathCount;
    if (initial && categories.size > 0) host.hasInitialState = true;
    host.lastSeq = report.seq;
    host.lastSeen = lastSeen;
    host.meta = meta;
    for (const [hash, facts] of newBlobs) batch.newBlobs.set(hash, facts);
    for (const [hash, by] of refDelta) bump(batch.refDelta, hash, by);
    if (touched.length > 0) {
      batch.changedHosts.add(hostId);
      // Here rather than once per host at the end of the batch: the flush budget then counts it
      // (a new blob's encoding is as costly as applying the report).
      const { fingerprint, fingerprints } = this.computeFingerprints(host, (hash) => batch.blob(hash));
      host.fingerprint = fingerprint;
      host.fingerprints = fingerprints;
    }

    const result: IngestResult = {
      seq: report.seq,
      applied: true,
      lastSeq: report.seq,
      resync,
      changes: changes.length,
    };
    if (touched.length === 0) return { result };
    return {
      result,
      afterCommit: () => this.compactor.noteChanges(hostId, changes.length),
      event: {
        type: 'facts-changed',
        hostId,
        environment: host.environment,
        seq: report.seq,
        observedAt: report.observedAt,
        categories: touched,
        changes,
        initial,
      },
    };
  }

  /** End of a batch, still inside its transaction: fingerprints, unreferenced blobs, last-seen times. */
  private finishBatch(batch: Batch): void {
    for (const hostId of batch.changedHosts) {
      const host = batch.hosts.get(hostId) as HostState;
      this.stmt.updateHostFingerprints.run(host.fingerprint, JSON.stringify(host.fingerprints), hostId);
    }
    for (const [hash, by] of batch.refDelta) {
      if ((this.blobs.get(hash)?.refs ?? 0) + by <= 0) this.stmt.deleteBlob.run({ hash });
    }
    for (const [hostId, at] of batch.touches) {
      if (this.hosts.has(hostId)) this.stmt.touchHost.run(at, hostId);
    }
  }

  /** After the commit: the batch becomes the cache. */
  private commitBatch(batch: Batch): void {
    for (const [hash, facts] of batch.newBlobs) {
      if (!this.blobs.has(hash)) this.blobs.set(hash, { facts, refs: 0 });
    }
    for (const [hash, by] of batch.refDelta) {
      const entry = this.blobs.get(hash);
      if (!entry) continue;
      entry.refs += by;
      if (entry.refs <= 0) {
        this.blobs.delete(hash);
        this.encodings.delete(hash);
      }
    }
    for (const [hostId, host] of batch.hosts) this.hosts.set(hostId, host);
    for (const { hostId, previous, next } of batch.tokens) {
      if (previous !== null && this.hostByToken.get(previous) === hostId) this.hostByToken.delete(previous);
      this.hostByToken.set(next, hostId);
    }
    for (const environment of batch.environments) this.environments.add(environment);
  }

  // --- reads -----------------------------------------------------------------------------------

  getHost(hostId: string): HostView | undefined {
    return this.hosts.get(hostId);
  }

  listHosts(): HostView[] {
    return [...this.hosts.values()]
      .filter((host) => host.retiredAt === null)
      .sort((a, b) => compareStrings(a.id, b.id));
  }

  getBlob(hash: string): Readonly<FactMap> | undefined {
    return this.blobs.get(hash)?.facts;
  }

  getHostFacts(hostId: string): FactMap | undefined {
    const host = this.hosts.get(hostId);
    return host ? this.mergeFacts(host, (hash) => this.blobs.get(hash)?.facts) : undefined;
  }

  async listChanges(hostId: string, { since, limit }: ChangeQuery): Promise<FactChange[]> {
    this.assertOpen();
    const rows = this.stmt.listChanges.all(hostId, since ?? Number.MIN_SAFE_INTEGER, limit) as ChangeRow[];
    return rows.map((row) => {
      const change: FactChange = { hostId: row.host_id, seq: row.seq, at: row.at, path: row.path };
      if (row.from_value !== null) change.from = JSON.parse(row.from_value) as FactValue;
      if (row.to_value !== null) change.to = JSON.parse(row.to_value) as FactValue;
      if (row.emergency) change.emergency = true;
      return change;
    });
  }

  listEnvironments(): string[] {
    return [...this.environments].sort(compareStrings);
  }

  async environmentHadValue(environment: string, path: string, value: FactValue): Promise<boolean> {
    this.assertOpen();
    // Reports still buffered belong to the history too.
    this.batcher.flush(Number.POSITIVE_INFINITY);
    const json = JSON.stringify(value);
    if (this.stmt.environmentHadValue.get(environment, path, json) !== undefined) return true;
    // Initial states: the category blobs hosts of this environment started with.
    let category: string;
    try {
      category = categoryOf(path);
    } catch {
      return false;
    }
    for (const { blob_hash: hash } of this.stmt.initialBlobs.all(environment, category) as { blob_hash: string }[]) {
      let facts = this.blobs.get(hash)?.facts;
      if (facts === undefined) {
        const row = this.stmt.getBlobData.get(hash) as { data: string } | undefined;
        if (!row) continue;
        facts = JSON.parse(row.data) as FactMap;
      }
      const held = ownValue(facts as Record<string, FactValue>, path);
      if (held !== undefined && JSON.stringify(held) === json) return true;
    }
    return false;
  }

  async markEmergencyChange(hostId: string, seq: number, path: string): Promise<void> {
    this.assertOpen();
    this.stmt.markEmergency.run(hostId, seq, path);
  }

  async retireHost(hostId: string, at: number, by?: string): Promise<boolean> {
    this.assertOpen();
    const host = this.hosts.get(hostId);
    if (!host || host.retiredAt !== null) return false;
    try {
      this.stmt.retireHost.run(at, by ?? null, hostId);
    } catch (cause) {
      throw new StoreError('STORE_FAILED', `cannot retire host ${hostId}: ${(cause as Error).message}`, { cause });
    }
    // The token hash stays indexed so a reconnect is told "retired", not "unknown token"; the
    // ingest refuses every token and enrollment of a retired host.
    this.hosts.set(hostId, { ...cloneHost(host), retiredAt: at, retiredBy: by ?? null });
    this.emit({
      type: 'host-updated',
      hostId,
      environment: null,
      previousEnvironment: host.environment,
      retired: true,
    });
    return true;
  }

  async unretireHost(hostId: string): Promise<boolean> {
    this.assertOpen();
    const host = this.hosts.get(hostId);
    if (!host || host.retiredAt === null || host.retiredBy !== PRESENCE_RETIRED_BY) return false;
    try {
      this.stmt.unretireHost.run(hostId, PRESENCE_RETIRED_BY);
    } catch (cause) {
      throw new StoreError('STORE_FAILED', `cannot bring back host ${hostId}: ${(cause as Error).message}`, { cause });
    }
    this.hosts.set(hostId, { ...cloneHost(host), retiredAt: null, retiredBy: null });
    this.emit({ type: 'host-updated', hostId, environment: host.environment, previousEnvironment: null });
    return true;
  }

  // --- exceptions (exception-repository.ts) ----------------------------------------------------

  listExceptions(): ExceptionRecord[] {
    return this.exceptions.list();
  }

  async createException(input: NewException): Promise<ExceptionRecord> {
    this.assertOpen();
    return this.exceptions.create(input);
  }

  async deleteException(id: string): Promise<boolean> {
    this.assertOpen();
    return this.exceptions.delete(id);
  }

  async replaceFileExceptions(source: string, exceptions: readonly FileException[]): Promise<string[]> {
    this.assertOpen();
    return this.exceptions.replaceFileExceptions(source, exceptions);
  }

  async markExceptionExpired(id: string, at: number): Promise<void> {
    this.assertOpen();
    this.exceptions.markExpired(id, at);
  }

  // --- drift events (drift-event-repository.ts) ------------------------------------------------

  async listDriftEvents(query: DriftEventQuery = {}): Promise<StoredDriftEvent[]> {
    this.assertOpen();
    return this.driftEvents.list(query);
  }

  async writeDriftEvents(write: DriftWrite): Promise<StoredDriftEvent[]> {
    this.assertOpen();
    const afterCommit: (() => void)[] = [];
    let opened: StoredDriftEvent[];
    try {
      opened = this.db.transaction(() => {
        for (const change of write.emergencyChanges ?? []) {
          this.stmt.markEmergency.run(change.hostId, change.seq, change.path);
        }
        for (const { id, at } of write.expiredExceptions ?? []) afterCommit.push(this.exceptions.stageExpired(id, at));
        return this.driftEvents.write(write);
      })();
    } catch (cause) {
      if (cause instanceof StoreError) throw cause;
      throw new StoreError('STORE_FAILED', `cannot write the drift pass: ${(cause as Error).message}`, { cause });
    }
    for (const apply of afterCommit) apply();
    return opened;
  }

  // --- API tokens (api-token-repository.ts) ----------------------------------------------------

  async createApiToken(input: NewApiToken): Promise<ApiTokenRecord> {
    this.assertOpen();
    return this.apiTokens.create(input);
  }

  async findApiToken(tokenHash: string): Promise<ApiTokenRecord | undefined> {
    this.assertOpen();
    return this.apiTokens.find(tokenHash);
  }

  async listApiTokens(): Promise<ApiTokenRecord[]> {
    this.assertOpen();
    return this.apiTokens.list();
  }

  async revokeApiToken(id: string, at: number): Promise<boolean> {
    this.assertOpen();
    return this.apiTokens.revoke(id, at);
  }

  // --- events and housekeeping -----------------------------------------------------------------

  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: StoreEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }

  sizeBytes(): number {
    if (this.closed) return 0;
    if (this.path === ':memory:' || this.path === '') {
      const pages = this.db.pragma('page_count', { simple: true }) as number;
      const pageSize = this.db.pragma('page_size', { simple: true }) as number;
      return pages * pageSize;
    }
    let total = 0;
    for (const file of [this.path, `${this.path}-wal`]) {
      try {
        total += statSync(file).size;
      } catch {
        // no WAL yet
      }
    }
    return total;
  }

  async integrityCheck(): Promise<string> {
    this.assertOpen();
    const rows = this.db.pragma('integrity_check') as { integrity_check: string }[];
    return rows.map((row) => row.integrity_check).join('; ');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.batcher.flush(Number.POSITIVE_INFINITY);
    this.compactor.runPending();
    this.compactor.stop();
    this.closed = true;
    this.batcher.stop();
    // The host count of this clean shutdown: the next open compares with it (store-integrity.ts).
    try {
      writeStoreMeta(this.db, CLEAN_SHUTDOWN_KEY, { hosts: this.hosts.size, at: Date.now(), clean: true });
    } catch (error) {
      this.onListenerError(error);
    }
    this.db.close();
    this.hostCount?.stop(true);
  }
}
