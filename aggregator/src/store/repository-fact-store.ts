/**
 * The FactStore on a backend (store-backend.ts: SQLite or PostgreSQL): the composition of the fleet
 * state (in memory, what every read answers from) with one repository per aggregate (the SQL) and
 * the ingest batcher.
 * - category facts are content-addressed blobs, held once however many hosts hold them
 *   (fleet/blob-index.ts);
 * - reports and enrollments are buffered and committed together, one transaction per ~50 ms (or per
 *   N operations, and never more than a time budget of work before yielding to the event loop), and
 *   each caller is resolved only after its transaction committed: that is when the agent gets `ack`
 *   or `enrolled` (ingest-batcher.ts);
 * - what a report does is planned first (fleet/report-plan.ts), written, then made the state;
 * - a host's first report is its initial state: one `initial_states` row per category pointing at the
 *   category's blob, not hundreds of per-path "added" changes; after that the history is per-path
 *   changes stamped with the agent's observation time (change-history-repository.ts).
 */
import {
  type Classifier,
  compareStrings,
  createClassifier,
  type FactMap,
  type FactValue,
  MAX_HOST_PATHS,
} from '@envparity/shared';
import { StoreError, storeFailed } from '../errors.js';
import { FleetState } from '../fleet/fleet-state.js';
import { cloneHost, type HostState } from '../fleet/host-state.js';
import type { ApiTokenRepository, NewApiToken } from './api-token-repository.js';
import { SqlAuditLog } from './audit-log.js';
import type { AuditRepository } from './audit-repository.js';
import type { ChangeHistoryRepository } from './change-history-repository.js';
import type { DeclaredClassRepository } from './declared-class-repository.js';
import type { DriftEventRepository } from './drift-event-repository.js';
import { environmentHadValues } from './environment-had-values.js';
import type { ExceptionRepository } from './exception-repository.js';
import { FactIngest } from './fact-ingest.js';
import type {
  ApiTokenRecord,
  ChangeQuery,
  DriftEventQuery,
  DriftWrite,
  EnrollInput,
  EnrollResult,
  EnvironmentChangeQuery,
  ExceptionRecord,
  FactChange,
  FactStore,
  FileException,
  HostInfo,
  HostView,
  IngestInput,
  IngestResult,
  InitialState,
  NewException,
  StoredDriftEvent,
  StoreEvent,
  StoreListener,
} from './fact-store.js';
import { PRESENCE_RETIRED_BY } from './fact-store.js';
import { DEFAULT_MAX_CHANGES_PER_HOST, HistoryCompactor } from './history-compaction.js';
import { DEFAULT_CHANGE_RETENTION_MS, HistoryRetention } from './history-retention.js';
import { type HistoryStart, readHistoryStarts } from './history-starts.js';
import { SqlHostAdmission } from './host-admission.js';
import type { HostFactsRepository } from './host-facts-repository.js';
import { loadFleetState } from './load-fleet-state.js';
import type { SqlPort } from './sql-port.js';
import type { StoreBackend } from './store-backend.js';
import type { StoreOpenReport } from './store-integrity.js';
import {
  DEFAULT_FLUSH_BUDGET_MS,
  DEFAULT_FLUSH_INTERVAL_MS,
  DEFAULT_FLUSH_MAX_REPORTS,
  DEFAULT_TOUCH_FLUSH_MS,
  type FactStoreOptions,
} from './store-options.js';
import { NO_STORE_SIGNALS, type StoreSignals } from './store-signals.js';

/** What a backend without its own checks at open reports (nothing recorded to compare with). */
const UNCHECKED_OPEN: StoreOpenReport = {
  quickCheck: 'skipped',
  hostsAtOpen: 0,
  expectedHosts: null,
  expectedFrom: null,
  expectedAt: null,
  missingHosts: 0,
  previousShutdownClean: null,
};

export class RepositoryFactStore implements FactStore {
  /** The backend's connection for the store's portable SQL (history compaction and retention, history starts). */
  readonly sql: SqlPort;
  /** Where the data is (a file, or host:port/database), for messages. */
  readonly location: string;
  private readonly onListenerError: (error: unknown) => void;

  /** Admin actions and enrollments (append-only). */
  readonly audit: SqlAuditLog;
  /** Recorded parity audits. */
  readonly audits: AuditRepository;
  readonly admission: SqlHostAdmission;
  /** Where probe classes agents declared are kept (classes/class-registry.ts persists to it). */
  readonly declaredClasses: DeclaredClassRepository;
  private readonly hostFacts: HostFactsRepository;
  private readonly changes: ChangeHistoryRepository;
  private readonly driftEvents: DriftEventRepository;
  protected readonly exceptions: ExceptionRepository;
  /** What the other aggregators on the same database are told (nothing on SQLite). */
  protected readonly signals: StoreSignals;
  private readonly apiTokens: ApiTokenRepository;
  /** What the checks at open found (a SQLite file: quick_check, host count against the last record). */
  openReport: StoreOpenReport = UNCHECKED_OPEN;
  private readonly compactor: HistoryCompactor;
  private readonly retention: HistoryRetention | undefined;
  /** Where each host's stored history starts; dropped whenever an initial state is written or moved. */
  private historyStartCache: Map<string, HistoryStart> | undefined;
  /** Goes up whenever a host's history start moves (historyVersion()). */
  private historyStartsMoved = 0;
  protected readonly fleet: FleetState;
  protected readonly classify: Classifier;
  private readonly listeners = new Set<StoreListener>();
  private closed = false;
  private readonly ingest: FactIngest;

  constructor(
    private readonly backend: StoreBackend,
    {
      classify = createClassifier(),
      recordVolatileChanges = false,
      flushIntervalMs = DEFAULT_FLUSH_INTERVAL_MS,
      flushMaxReports = DEFAULT_FLUSH_MAX_REPORTS,
      flushBudgetMs = DEFAULT_FLUSH_BUDGET_MS,
      touchFlushMs = DEFAULT_TOUCH_FLUSH_MS,
      onListenerError = () => {},
      maxChangesPerHost = DEFAULT_MAX_CHANGES_PER_HOST,
      maxHostPaths = MAX_HOST_PATHS,
      changeRetentionMs = DEFAULT_CHANGE_RETENTION_MS,
      retentionIntervalMs,
      retentionStartDelayMs,
      now = Date.now,
      signals = NO_STORE_SIGNALS,
    }: FactStoreOptions = {},
  ) {
    this.location = backend.location;
    this.sql = backend.sql;
    this.onListenerError = onListenerError;
    this.signals = signals;
    this.classify = classify;
    this.fleet = new FleetState(classify);
    try {
      const { repositories } = backend;
      this.hostFacts = repositories.hostFacts;
      this.changes = repositories.changes;
      this.audits = repositories.audits;
      this.driftEvents = repositories.driftEvents;
      this.exceptions = repositories.exceptions;
      this.apiTokens = repositories.apiTokens;
      this.declaredClasses = repositories.declaredClasses;
      this.audit = new SqlAuditLog(this.sql);
      this.admission = new SqlHostAdmission(this.sql, () => this.signals.admissionChanged());
      loadFleetState(this.hostFacts, this.fleet, this.sql);
      this.ingest = new FactIngest({
        sql: this.sql,
        fleet: this.fleet,
        hostFacts: this.hostFacts,
        changes: this.changes,
        audit: this.audit,
        classify,
        recordVolatileChanges,
        maxHostPaths,
        flushIntervalMs,
        flushMaxReports,
        flushBudgetMs,
        touchFlushMs,
        emit: (event) => this.emit(event),
        noteChanges: (hostId, changes) => this.compactor.noteChanges(hostId, changes),
        hostsWritten: (hostIds) => this.signals.hostsWritten(hostIds),
      });
      this.compactor = new HistoryCompactor({
        sql: this.sql,
        maxChangesPerHost,
        currentCategories: (hostId) => this.fleet.categoryFacts(hostId),
        onError: (error) => this.onListenerError(error),
        onCompacted: () => this.historyStartsChanged(),
      });
      if (changeRetentionMs !== null) {
        this.retention = new HistoryRetention({
          sql: this.sql,
          retentionMs: changeRetentionMs,
          now,
          currentCategories: (hostId) => this.fleet.categoryFacts(hostId),
          onFolded: (hostId, removed) => {
            this.historyStartsChanged();
            this.compactor.noteFolded(hostId, removed);
          },
          onError: (error) => this.onListenerError(error),
          ...(retentionIntervalMs !== undefined ? { intervalMs: retentionIntervalMs } : {}),
          ...(retentionStartDelayMs !== undefined ? { startDelayMs: retentionStartDelayMs } : {}),
        });
        this.retention.start();
      }
      this.openReport = { ...UNCHECKED_OPEN, hostsAtOpen: this.fleet.hostCount };
    } catch (cause) {
      backend.close();
      throw new StoreError('STORE_FAILED', `cannot load the database ${this.location}: ${(cause as Error).message}`, {
        cause,
      });
    }
  }

  /**
   * Several aggregators on one database: only the leader folds old history (retention), so two
   * never fold the same host's changes at once. On by default (one aggregator leads alone).
   */
  setLeader(leading: boolean): void {
    if (leading) this.retention?.start();
    else this.retention?.pause();
  }

  /** Deletes blobs let go of more than `graceMs` ago that nothing holds (PostgreSQL; SQLite deletes at once). */
  collectUnusedBlobs(graceMs: number): number {
    this.assertOpen();
    return this.hostFacts.collectUnusedBlobs(graceMs);
  }

  /** Folds the oldest changes of hosts over `maxChangesPerHost` into their initial state now (normally on the next tick). */
  compactHistory(): number {
    this.assertOpen();
    return this.compactor.runPending();
  }

  /**
   * Folds changes older than the retention (`changeRetentionMs`) into their hosts' initial states
   * now (normally hourly in the background); resolves with the change rows removed.
   */
  async compactRetention(): Promise<number> {
    this.assertOpen();
    if (!this.retention) return 0;
    this.ingest.flush();
    return this.retention.run();
  }

  /** The oldest instant time travel can answer for every host (now - retention), or null without retention. */
  retentionEdge(): number | null {
    return this.retention ? this.retention.edge() : null;
  }

  /**
   * Where each host's stored history starts (its initial state's time, and the environment it was
   * in then), every host that has one, in one read; cached until an initial state is written or moved.
   */
  async historyStarts(): Promise<ReadonlyMap<string, HistoryStart>> {
    this.assertOpen();
    this.ingest.flush();
    this.historyStartCache ??= readHistoryStarts(this.sql);
    return this.historyStartCache;
  }

  historyVersion(): number {
    return this.historyStartsMoved;
  }

  private historyStartsChanged(): void {
    this.historyStartCache = undefined;
    this.historyStartsMoved++;
  }

  /** Retired hosts (out of `listHosts()`), by id: time travel needs the ones retired after the instant. */
  listRetiredHosts(): HostView[] {
    this.assertOpen();
    const rows = this.sql.all<{ id: string }>('SELECT id FROM hosts WHERE retired_at IS NOT NULL');
    return rows
      .map((row) => row.id)
      .sort(compareStrings)
      .map((id) => this.fleet.host(id))
      .filter((host): host is HostState => host !== undefined);
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError('STORE_CLOSED', 'the fact store is closed');
  }

  // --- writes ----------------------------------------------------------------------------------

  /**
   * Enrollments are batched with reports: the host row commits with the next transaction (no flush
   * of its own), and the caller is resolved after that commit, before the agent is sent `enrolled`.
   */
  enrollHost(input: EnrollInput): Promise<EnrollResult> {
    if (this.closed) return Promise.reject(new StoreError('STORE_CLOSED', 'the fact store is closed'));
    return this.ingest.enroll(input);
  }

  ingestReport(input: IngestInput): Promise<IngestResult> {
    if (this.closed) return Promise.reject(new StoreError('STORE_CLOSED', 'the fact store is closed'));
    return this.ingest.ingest(input);
  }

  touchHost(hostId: string, at: number): void {
    if (!this.closed) this.ingest.touch(hostId, at);
  }

  async flush(): Promise<void> {
    this.ingest.flush();
  }

  /** A single-host write outside the ingest batches: the row first, then the fleet state. */
  private hostWrite(
    hostId: string,
    what: string,
    write: (host: HostState) => HostState | undefined,
  ): HostState | undefined {
    this.assertOpen();
    const host = this.fleet.host(hostId);
    if (!host) throw new StoreError('UNKNOWN_HOST', `host ${hostId} is not enrolled`);
    let changed: HostState | undefined;
    try {
      changed = write(host);
    } catch (cause) {
      throw storeFailed(`cannot ${what} ${hostId}`, cause);
    }
    if (changed) {
      this.fleet.replaceHost(changed);
      this.signals.hostsWritten([hostId]);
    }
    return changed;
  }

  async replaceHostToken(hostId: string, tokenHash: string): Promise<void> {
    this.hostWrite(hostId, 'replace the token of', (host) => {
      this.hostFacts.replaceToken(hostId, tokenHash);
      return { ...cloneHost(host), tokenHash };
    });
  }

  findHostByTokenHash(tokenHash: string): string | undefined {
    return this.fleet.hostIdByToken(tokenHash);
  }

  async updateHostInfo(hostId: string, info: HostInfo): Promise<void> {
    const before = this.fleet.host(hostId);
    const updated = this.hostWrite(hostId, 'update host', (host) => {
      if (
        host.environment === info.environment &&
        host.agentVersion === info.agentVersion &&
        JSON.stringify(host.labels) === JSON.stringify(info.labels)
      ) {
        return undefined;
      }
      this.sql.transaction(() => {
        this.hostFacts.updateHostInfo(hostId, info);
        if (info.environment !== null) this.hostFacts.addEnvironment(info.environment, Date.now());
      });
      return {
        ...cloneHost(host),
        environment: info.environment,
        labels: { ...info.labels },
        agentVersion: info.agentVersion,
      };
    });
    if (!updated) return;
    if (info.environment !== null) this.fleet.addEnvironment(info.environment);
    this.emit({
      type: 'host-updated',
      hostId,
      environment: info.environment,
      previousEnvironment: before?.environment ?? null,
    });
  }

  async retireHost(hostId: string, at: number, by?: string): Promise<boolean> {
    this.assertOpen();
    const host = this.fleet.host(hostId);
    if (!host || host.retiredAt !== null) return false;
    this.hostWrite(hostId, 'retire host', () => this.retireRow(host, at, by ?? null));
    this.emitRetired(host);
    return true;
  }

  /**
   * The retirement's row, and the host's retired copy (made the state once the write committed).
   * The token hash stays indexed so a reconnect is told "retired", not "unknown token"; the ingest
   * refuses every token and enrollment of a retired host.
   */
  private retireRow(host: HostState, at: number, by: string | null): HostState {
    this.hostFacts.retire(host.id, at, by);
    return { ...cloneHost(host), retiredAt: at, retiredBy: by };
  }

  private emitRetired(before: HostState): void {
    this.emit({
      type: 'host-updated',
      hostId: before.id,
      environment: null,
      previousEnvironment: before.environment,
      retired: true,
    });
  }

  async unretireHost(hostId: string): Promise<boolean> {
    this.assertOpen();
    const host = this.fleet.host(hostId);
    if (!host || host.retiredAt === null || host.retiredBy !== PRESENCE_RETIRED_BY) return false;
    this.hostWrite(hostId, 'bring back host', () => {
      this.hostFacts.unretire(hostId, PRESENCE_RETIRED_BY);
      return { ...cloneHost(host), retiredAt: null, retiredBy: null };
    });
    this.emit({ type: 'host-updated', hostId, environment: host.environment, previousEnvironment: null });
    return true;
  }

  // --- reads (hosts and facts from the fleet state, history from its repository) ----------------

  getHost(hostId: string): HostView | undefined {
    return this.fleet.host(hostId);
  }

  listHosts(): HostView[] {
    return this.fleet.listHosts();
  }

  getBlob(hash: string): Readonly<FactMap> | undefined {
    return this.fleet.blobs.facts(hash);
  }

  getHostFacts(hostId: string): FactMap | undefined {
    return this.fleet.hostFacts(hostId);
  }

  async listChanges(hostId: string, query: ChangeQuery): Promise<FactChange[]> {
    this.assertOpen();
    return this.changes.list(hostId, query);
  }

  async listEnvironmentChanges(environment: string, query: EnvironmentChangeQuery): Promise<FactChange[]> {
    this.assertOpen();
    // Reports still buffered belong to the history too.
    this.ingest.flush();
    return this.changes.listByEnvironment(environment, query);
  }

  async getInitialState(hostId: string): Promise<InitialState | undefined> {
    this.assertOpen();
    this.ingest.flush();
    return this.hostFacts.initialState(hostId);
  }

  listEnvironments(): string[] {
    return this.fleet.environments();
  }

  async environmentHadValue(environment: string, path: string, value: FactValue): Promise<boolean> {
    const [had] = await this.environmentHadValues(environment, [{ path, value }]);
    return had === true;
  }

  async environmentHadValues(
    environment: string,
    values: readonly { path: string; value: FactValue }[],
  ): Promise<boolean[]> {
    this.assertOpen();
    // Reports still buffered belong to the history too.
    this.ingest.flush();
    return environmentHadValues(
      { changes: this.changes, hostFacts: this.hostFacts, blobInMemory: (hash) => this.fleet.blobs.facts(hash) },
      environment,
      values,
    );
  }

  // --- exceptions, drift events, API tokens (their repositories) -------------------------------

  listExceptions(): ExceptionRecord[] {
    return this.exceptions.list();
  }

  async createException(input: NewException): Promise<ExceptionRecord> {
    this.assertOpen();
    const created = this.exceptions.create(input);
    this.signals.exceptionsChanged(created.environments);
    return created;
  }

  async deleteException(id: string): Promise<boolean> {
    this.assertOpen();
    const environments = this.exceptions.list().find((record) => record.id === id)?.environments ?? [];
    const deleted = this.exceptions.delete(id);
    if (deleted) this.signals.exceptionsChanged(environments);
    return deleted;
  }

  async replaceFileExceptions(source: string, exceptions: readonly FileException[]): Promise<string[]> {
    this.assertOpen();
    const affected = this.exceptions.replaceFileExceptions(source, exceptions);
    if (affected.length > 0) this.signals.exceptionsChanged(affected);
    return affected;
  }

  async listDriftEvents(query: DriftEventQuery = {}): Promise<StoredDriftEvent[]> {
    this.assertOpen();
    return this.driftEvents.list(query);
  }

  async writeDriftEvents(write: DriftWrite): Promise<StoredDriftEvent[]> {
    this.assertOpen();
    const afterCommit: (() => void)[] = [];
    const retired: { before: HostState; after: HostState }[] = [];
    let opened: StoredDriftEvent[];
    try {
      opened = this.sql.transaction(() => {
        for (const { hostId, seq, path } of write.emergencyChanges ?? []) this.changes.markEmergency(hostId, seq, path);
        for (const { id, at } of write.expiredExceptions ?? []) afterCommit.push(this.exceptions.stageExpired(id, at));
        for (const { hostId, at, by } of write.retire ?? []) {
          const host = this.fleet.host(hostId);
          if (host && host.retiredAt === null) retired.push({ before: host, after: this.retireRow(host, at, by) });
        }
        if (retired.length > 0) this.signals.hostsWritten(retired.map(({ before }) => before.id));
        return this.driftEvents.write(write);
      });
    } catch (cause) {
      throw storeFailed('cannot write the drift pass', cause);
    }
    for (const apply of afterCommit) apply();
    for (const { after } of retired) this.fleet.replaceHost(after);
    for (const { before } of retired) this.emitRetired(before);
    this.signals.driftWritten();
    const expired = write.expiredExceptions ?? [];
    if (expired.length > 0) {
      const ids = new Set(expired.map(({ id }) => id));
      this.signals.exceptionsChanged(
        this.exceptions.list().flatMap((record) => (ids.has(record.id) ? record.environments : [])),
      );
    }
    return opened;
  }

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

  protected emit(event: StoreEvent): void {
    if (event.type === 'facts-changed' && event.initial) this.historyStartsChanged();
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }

  sizeBytes(): number {
    return this.closed ? 0 : this.backend.sizeBytes();
  }

  async integrityCheck(): Promise<string> {
    this.assertOpen();
    return this.backend.integrityCheck();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.ingest.flush();
    this.compactor.runPending();
    this.compactor.stop();
    this.retention?.stop();
    this.closed = true;
    this.ingest.stop();
    this.admission.close();
    try {
      this.backend.close({ hostCount: this.fleet.hostCount });
    } catch (error) {
      this.onListenerError(error);
    }
  }
}
