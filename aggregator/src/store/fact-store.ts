/**
 * The fact store behind the aggregator: hosts, their current facts per category, the per-path change
 * history and API tokens. It is an interface so the drift engine and the API do not depend on
 * SQLite: a shared PostgreSQL store behind several aggregators is a later implementation of it.
 *
 * Contract for every implementation:
 * - current state (hosts, category blobs, facts) is served from memory, synchronously, so the drift
 *   engine can read every host's facts at once without I/O;
 * - writes and history reads are asynchronous; `ingestReport` resolves only once the report and its
 *   changes are durable (committed), which is when the agent may be acknowledged.
 */
import type { FactMap, FactValue, ReportMessage } from '@envparity/shared';
import type { AuditLog } from './audit-log.js';
import type { AuditRepository } from './audit-repository.js';
import type { HistoryStart } from './history-starts.js';
import type { HostAdmission } from './host-admission.js';
import type { StoreOpenReport } from './store-integrity.js';

/** One host as the store holds it. Read-only view: the store owns and replaces these objects. */
/** `retiredBy` of hosts the drift engine retired after `presence.retireAfter` without contact. */
export const PRESENCE_RETIRED_BY = 'presence.retireAfter';

export interface HostView {
  readonly id: string;
  readonly environment: string | null;
  readonly labels: Readonly<Record<string, string>>;
  /** When the current agent token was issued (ms since epoch). */
  readonly enrolledAt: number;
  /** Highest report seq stored for this host (0 before the first report of this enrollment). */
  readonly lastSeq: number;
  /** Last time the host was heard from (ms since epoch), or null. */
  readonly lastSeen: number | null;
  readonly agentVersion: string | null;
  /** Overall behavior fingerprint (`fingerprintFacts().overall`), null before any facts. */
  readonly fingerprint: string | null;
  /** Behavior fingerprint per category (`fingerprintFacts().categories`). */
  readonly fingerprints: Readonly<Record<string, string>>;
  /**
   * Category -> blob hash, where the hash is `fingerprintMap()` of the whole category: exactly what
   * agents send in `hello.fingerprints` and `report.fingerprints`. Empty categories are absent.
   */
  readonly categories: ReadonlyMap<string, string>;
  /**
   * Goes up by one whenever `categories` changes (never otherwise): readers that keep something
   * derived from a host's facts compare versions instead of holding on to the store's objects.
   */
  readonly factsVersion: number;
  /** `meta` of the last applied report (collector timings and errors), if any. */
  readonly meta: unknown;
  /**
   * When the host was retired (`DELETE /api/v1/hosts/:id`), else null. A retired host is out of
   * `listHosts()` (lists, environment counts, baselines) but keeps its facts and history; its
   * token no longer authenticates and its id cannot be enrolled again.
   */
  readonly retiredAt: number | null;
  /** Who retired it (the API token's name), when known. */
  readonly retiredBy: string | null;
}

export interface EnrollInput {
  hostId: string;
  /** sha256 of the new agent token (see token-hash.ts); the clear token is never stored. */
  tokenHash: string;
  environment: string | null;
  labels: Record<string, string>;
  agentVersion: string | null;
  at: number;
  /** Remote address of the agent's WebSocket upgrade, for the audit log (null when unknown). */
  source?: string | null;
}

export interface EnrollResult {
  /** True when the host existed: its old token is revoked and its seq numbering restarts. */
  reenrolled: boolean;
}

export interface HostInfo {
  environment: string | null;
  labels: Record<string, string>;
  agentVersion: string | null;
}

export interface IngestInput {
  hostId: string;
  report: ReportMessage;
  /** When the frame arrived (ms since epoch): becomes the host's last-seen time. */
  receivedAt: number;
  /**
   * The caller already ran `findReportPathProblem` on this report (the agent session does, in frame
   * order): the store skips its own second check, which costs as much as applying the report.
   */
  pathsChecked?: boolean;
}

export interface IngestResult {
  seq: number;
  /** False when `seq <=` the stored last seq: a replay, acknowledged but not applied again. */
  applied: boolean;
  /** The host's last seq after this report. */
  lastSeq: number;
  /** Categories whose stored fingerprint differs from `report.fingerprints` after applying. */
  resync: string[];
  /** Number of per-path changes recorded. */
  changes: number;
}

/** One recorded change of one fact path. `from` is absent when added, `to` when removed. */
export interface FactChange {
  hostId: string;
  seq: number;
  /** When the agent observed the change (report.observedAt), ms since epoch. */
  at: number;
  path: string;
  from?: FactValue;
  to?: FactValue;
  /** Set by the drift engine: the change reached an environment before its upstream ever had the value. */
  emergency?: boolean;
}

/** The start of a host's stored history: its facts as of `at` (after change `seq`). */
export interface InitialState {
  at: number;
  seq: number;
  facts: FactMap;
}

export interface ChangeQuery {
  /** Only changes observed at or after this time (ms since epoch). */
  since?: number;
  /** Only changes observed at or before this time (ms since epoch). */
  until?: number;
  /** `oldest` first (default) or `newest` first (a timeline); ties keep the order they were recorded in. */
  order?: 'oldest' | 'newest';
  /** Leave out this many of the first rows in that order (a newest-first cursor at one time). */
  offset?: number;
  limit: number;
}

/** An environment's change feed, optionally of some paths only (promotion reads the paths that can matter). */
export interface EnvironmentChangeQuery extends ChangeQuery {
  /** Only changes of these paths (an empty list: no changes). */
  paths?: readonly string[];
}

/** `read` < `verify` (read, plus the fleet key for `verify` on a CI runner) < `admin`. */
export const API_TOKEN_SCOPES = ['read', 'verify', 'admin'] as const;
export type ApiTokenScope = (typeof API_TOKEN_SCOPES)[number];

export interface ApiTokenRecord {
  id: string;
  name: string;
  scope: ApiTokenScope;
  createdAt: number;
  revokedAt: number | null;
}

/** A documented intentional difference as stored; the API turns times into ISO strings. */
export interface ExceptionRecord {
  id: string;
  /** Path glob. */
  path: string;
  /** One environment (differences inside it) or an unordered pair. */
  environments: string[];
  reason: string;
  impact?: string;
  owner?: string;
  /** ms since epoch, or null for no expiry. */
  expiresAt: number | null;
  createdAt: number;
  /** Name of the API token that created it. */
  createdBy?: string;
  /** When the drift engine noticed the expiry (and emitted `exception.expired`), else null. */
  expiredAt: number | null;
  /** `file:<path>` for exceptions loaded from the exceptions file; absent: created through the API. */
  source?: string;
}

export type NewException = Omit<ExceptionRecord, 'id' | 'expiredAt' | 'source'>;

/** An exception of the exceptions file: its id is stable across reloads (given, or derived from it). */
export type FileException = Omit<ExceptionRecord, 'expiredAt' | 'source'>;

export const STORED_DRIFT_KINDS = ['outlier', 'environment', 'emergency', 'lost'] as const;
export type StoredDriftKind = (typeof STORED_DRIFT_KINDS)[number];
export const DRIFT_STATUSES = ['open', 'resolved'] as const;
export type DriftStatus = (typeof DRIFT_STATUSES)[number];

/**
 * Why an event resolved: `fixed` (the difference is gone), `justified` (an exception created or
 * widened now covers it: `exception` names it), `host-lost` (its hosts left the baseline: part of
 * a `host.lost` event, never announced on its own), `returned` (a lost host reports again),
 * `retired` (a lost host was retired), `superseded` (an event of an older shape, replaced).
 */
export const DRIFT_RESOLUTIONS = ['fixed', 'justified', 'host-lost', 'returned', 'retired', 'superseded'] as const;
export type DriftResolution = (typeof DRIFT_RESOLUTIONS)[number];

/** A drift event as the store keeps it (times in ms). */
export interface StoredDriftEvent {
  id: string;
  /** Identity of the difference: at most one open event per key. */
  key: string;
  kind: StoredDriftKind;
  environment: string;
  otherEnvironment?: string;
  hostId?: string;
  path: string;
  expected?: FactValue;
  actual?: FactValue;
  status: DriftStatus;
  openedAt: number;
  resolvedAt: number | null;
  /** Kind `emergency`: the upstream environment that never had the value, and the report's seq. */
  upstream?: string;
  seq?: number;
  /** The hosts the event is about (drift/events.ts `DriftEventRecord.hosts`), at most MAX_EVENT_HOSTS. */
  hosts?: string[];
  /** How many hosts in all, when more than `hosts` lists. */
  hostCount?: number;
  /** Caused by an emergency change (with `upstream`). */
  emergency?: boolean;
  /** Why it resolved (drift/events.ts `DriftResolution`). */
  resolution?: DriftResolution;
  /** `resolution: justified`: the exception that covers it now. */
  exception?: { id: string; reason: string };
}

export type NewDriftEvent = Omit<StoredDriftEvent, 'id' | 'status' | 'resolvedAt' | 'resolution' | 'exception'>;

/** One drift pass's outcome, written in one transaction. */
export interface DriftWrite {
  open: NewDriftEvent[];
  /** Recorded changes the pass found to be emergency changes (flagged in the history). */
  emergencyChanges?: { hostId: string; seq: number; path: string }[];
  /** Exceptions whose expiry the pass noticed (`exception.expired` is published once). */
  expiredExceptions?: { id: string; at: number }[];
  /**
   * Hosts to retire (`presence.retireAfter`), as `retireHost` would (already retired ones are left
   * as they are); each emits `host-updated` with `retired: true` after the commit.
   */
  retire?: { hostId: string; at: number; by: string }[];
  resolve: { id: string; at: number; resolution?: DriftResolution; exception?: { id: string; reason: string } }[];
  /** Open events whose difference still holds with other values or hosts: every listed field is written. */
  update?: {
    id: string;
    expected?: FactValue;
    actual?: FactValue;
    hosts?: string[];
    hostCount?: number;
    emergency?: boolean;
    upstream?: string;
  }[];
}

export interface DriftEventQuery {
  status?: DriftStatus;
  environment?: string;
  kind?: StoredDriftKind;
  /** The event is about this host (`hostId`, or among an outlier group's `hosts`). */
  hostId?: string;
  /** Newest first (by openedAt); at most this many. */
  limit?: number;
}

/** Events emitted after a commit (never for uncommitted state). */
export type StoreEvent =
  | {
      type: 'host-enrolled';
      hostId: string;
      reenrolled: boolean;
      environment: string | null;
      /** The environment before a re-enrollment (null for a new host). */
      previousEnvironment: string | null;
      at: number;
    }
  | {
      /** `hello` changed the host's environment, labels or agent version. */
      type: 'host-updated';
      hostId: string;
      environment: string | null;
      previousEnvironment: string | null;
      /** The host was retired: it left `previousEnvironment` (`environment` is null) and every list. */
      retired?: true;
    }
  | {
      type: 'facts-changed';
      hostId: string;
      /** The host's environment when the report was applied. */
      environment: string | null;
      seq: number;
      observedAt: number;
      categories: string[];
      changes: FactChange[];
      /** The host held no facts before this report (its first report): every fact is an addition. */
      initial: boolean;
    };

export type StoreListener = (event: StoreEvent) => void;

export interface FactStore {
  /** Creates a host or re-enrolls it (new token, old token revoked, seq numbering restarts). */
  enrollHost(input: EnrollInput): Promise<EnrollResult>;
  /** The host id a token (by sha256) belongs to, if the token is current. */
  findHostByTokenHash(tokenHash: string): string | undefined;
  /** Makes `tokenHash` the host's only current token (a rotation); the old one stops authenticating here. */
  replaceHostToken(hostId: string, tokenHash: string): Promise<void>;
  /** Environment, labels and agent version as the agent declared them in `hello`. */
  updateHostInfo(hostId: string, info: HostInfo): Promise<void>;
  /** Applies a report (idempotent by host and seq); resolves after the commit. */
  ingestReport(input: IngestInput): Promise<IngestResult>;
  /**
   * Reads a host again from the database before its agent's hello is answered: with several
   * aggregators on one database, it may last have reported to another. Absent on SQLite.
   */
  syncHost?(hostId: string): void;
  /** Marks a host as heard from; coalesced, written with the next batch. */
  touchHost(hostId: string, at: number): void;
  /**
   * Retires a host: out of `listHosts()`, its token stops authenticating and its id cannot enroll
   * again; facts and history are kept (`getHost()` still answers, with `retiredAt`). Emits
   * `host-updated` with `retired: true`. False when the host is unknown or already retired.
   */
  retireHost(hostId: string, at: number, by?: string): Promise<boolean>;
  /**
   * Brings back a host retired by `presence.retireAfter` (`retiredBy` is PRESENCE_RETIRED_BY) when
   * it reconnects: a machine switched off for a week is not a machine removed. Emits
   * `host-updated`. False when the host is unknown, not retired, or retired by an admin.
   */
  unretireHost(hostId: string): Promise<boolean>;

  /** Any host, retired ones included. */
  getHost(hostId: string): HostView | undefined;
  /** Current (not retired) hosts, by id. */
  listHosts(): HostView[];
  /** Facts of one category blob, shared between every host holding the same category content. */
  getBlob(hash: string): Readonly<FactMap> | undefined;
  /** All facts of a host, every category merged. */
  getHostFacts(hostId: string): FactMap | undefined;
  /** Recorded changes of one host, oldest first. */
  listChanges(hostId: string, query: ChangeQuery): Promise<FactChange[]>;
  /**
   * Recorded changes of every host that was in `environment` when the change was recorded (the
   * environment-wide change feed, promotion tracking, time travel of a baseline).
   */
  listEnvironmentChanges(environment: string, query: EnvironmentChangeQuery): Promise<FactChange[]>;
  /**
   * Where a host's stored history starts: the facts it had at `at` (its first report, or the
   * point older changes were folded into), every category merged. Undefined for an unknown host
   * or one that never reported.
   */
  getInitialState(hostId: string): Promise<InitialState | undefined>;
  /** Where every host's stored history starts (one read; time travel asks for many hosts at once). */
  historyStarts(): Promise<ReadonlyMap<string, HistoryStart>>;
  /**
   * Changes whenever some host's stored history start moves: its first report, the per-host quota
   * folding its oldest changes, retention. What was rebuilt of the past stays true until then
   * (together with the change events: time travel's cache).
   */
  historyVersion(): number;
  /** Retired hosts (they were part of their environment until they were retired). */
  listRetiredHosts(): HostView[];
  /** The oldest instant history is kept for (now minus `retention.changes`), null when kept forever. */
  retentionEdge(): number | null;
  /** Folds changes older than the retention edge into the initial states now; resolves with rows folded. */
  compactRetention(): Promise<number>;

  createApiToken(input: { name: string; scope: ApiTokenScope; tokenHash: string; at: number }): Promise<ApiTokenRecord>;
  findApiToken(tokenHash: string): Promise<ApiTokenRecord | undefined>;
  listApiTokens(): Promise<ApiTokenRecord[]>;
  revokeApiToken(id: string, at: number): Promise<boolean>;

  /** Every environment a host has ever declared, sorted (from memory). */
  listEnvironments(): string[];
  /**
   * True when a host of `environment` ever had `path` = `value` according to the change history
   * (changes are stamped with the host's environment when recorded). Indexed: emergency detection.
   */
  environmentHadValue(environment: string, path: string, value: FactValue): Promise<boolean>;
  /**
   * `environmentHadValue` for many values at once, one answer each in order: each category blob the
   * environment's hosts started with is read once for all of them (promotion asks about hundreds).
   */
  environmentHadValues(environment: string, values: readonly { path: string; value: FactValue }[]): Promise<boolean[]>;

  /** Every exception, expired ones included, sorted by creation (from memory). */
  listExceptions(): ExceptionRecord[];
  createException(input: NewException): Promise<ExceptionRecord>;
  /** False when no exception has this id. */
  deleteException(id: string): Promise<boolean>;
  /**
   * Replaces every file-sourced exception with `exceptions` (source `source`, e.g. `file:/etc/x.yaml`)
   * in one transaction; an exception whose id and content are unchanged keeps its `createdAt` and
   * `expiredAt`. Resolves with the environments of every exception added, changed or removed.
   */
  replaceFileExceptions(source: string, exceptions: readonly FileException[]): Promise<string[]>;

  /** Drift events, newest first. */
  listDriftEvents(query?: DriftEventQuery): Promise<StoredDriftEvent[]>;
  /**
   * One drift pass in one transaction: opens, resolves and updates events, flags emergency changes
   * and records noticed expiries; resolves with the opened events.
   */
  writeDriftEvents(write: DriftWrite): Promise<StoredDriftEvent[]>;

  /** Called after every commit that changed something; returns the unsubscribe function. */
  subscribe(listener: StoreListener): () => void;
  /** Bytes the store takes on disk (database and write-ahead log). */
  sizeBytes(): number;
  /** `ok`, or the first problems the database's own consistency check found. */
  integrityCheck(): Promise<string>;
  /** Admin actions and enrollments, append-only (store/audit-log.ts). */
  readonly audit: AuditLog;
  /** Recorded parity audits (store/audit-repository.ts). */
  readonly audits: AuditRepository;
  /** Hosts awaiting approval and agent token rotations (store/host-admission.ts). */
  readonly admission: HostAdmission;
  /** What the checks at open found (store/store-integrity.ts), when the backend makes them. */
  readonly openReport?: StoreOpenReport;
  /** Commits everything buffered now. */
  flush(): Promise<void>;
  /** Flushes and closes; later writes fail with StoreError STORE_CLOSED. */
  close(): Promise<void>;
}
