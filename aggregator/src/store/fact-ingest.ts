/**
 * The ingest writes of the fact store: enrollments and reports queued on the ingest batcher
 * (ingest-batcher.ts), each in its own savepoint of the batch's transaction, planned on the fleet
 * state (fleet/report-plan.ts), written through the host-facts and change-history repositories, and
 * made the fleet state when the batch commits. Heartbeats (last-seen times) ride along.
 */
import { type Classifier, findReportPathProblem } from '@envparity/shared';
import { StoreError, storeFailed } from '../errors.js';
import type { FleetBatch } from '../fleet/fleet-batch.js';
import type { FleetState } from '../fleet/fleet-state.js';
import { type HostState, newHostState } from '../fleet/host-state.js';
import { applyPlan, planReport, type ReportPlan } from '../fleet/report-plan.js';
import { ENROLL_SECRET_ACTOR, type SqlAuditLog } from './audit-log.js';
import type { ChangeHistoryRepository } from './change-history-repository.js';
import type { EnrollInput, EnrollResult, IngestInput, IngestResult, StoreEvent } from './fact-store.js';
import type { HostFactsRepository } from './host-facts-repository.js';
import { type Applied, type BatchWork, IngestBatcher } from './ingest-batcher.js';
import type { SqlPort } from './sql-port.js';
import { DEFAULT_FLUSH_INTERVAL_MS } from './sqlite-store-options.js';

export interface FactIngestOptions {
  /** Its transactions: one per batch, a savepoint per write. */
  sql: SqlPort;
  fleet: FleetState;
  hostFacts: HostFactsRepository;
  changes: ChangeHistoryRepository;
  audit: SqlAuditLog;
  classify: Classifier;
  recordVolatileChanges: boolean;
  maxHostPaths: number;
  flushIntervalMs: number;
  flushMaxReports: number;
  flushBudgetMs: number;
  touchFlushMs: number;
  /** After the commit, for each event of the batch. */
  emit: (event: StoreEvent) => void;
  /** After the commit of a report that recorded changes (history quota). */
  noteChanges: (hostId: string, changes: number) => void;
  /** Inside the batch's transaction: the hosts it writes (the other aggregators re-read them once it commits). */
  hostsWritten: (hostIds: Iterable<string>) => void;
}

export class FactIngest {
  /** Last-seen times of heartbeats, written with the next batch. */
  private touches = new Map<string, number>();
  private readonly batcher: IngestBatcher<FleetBatch, StoreEvent>;

  constructor(private readonly options: FactIngestOptions) {
    this.batcher = new IngestBatcher<FleetBatch, StoreEvent>(this.batchWork(), {
      intervalMs: options.flushIntervalMs,
      maxWrites: options.flushMaxReports,
      budgetMs: options.flushBudgetMs,
    });
  }

  /**
   * Enrollments are batched with reports: the host row commits with the next transaction (no flush of
   * its own), and the caller is resolved after that commit, before the agent is sent `enrolled`.
   * Reports of a previous enrollment still buffered are ahead in the queue, so they land before the
   * seq numbering restarts.
   */
  enroll(input: EnrollInput): Promise<EnrollResult> {
    // An agent waits for `enrolled`: never longer than the default interval, whatever the report batching.
    const delayMs = Math.min(this.options.flushIntervalMs, DEFAULT_FLUSH_INTERVAL_MS);
    return this.batcher.enqueue(
      `cannot enroll host ${input.hostId}`,
      (batch) => this.applyEnroll(input, batch),
      delayMs,
    );
  }

  /** One enrollment inside its savepoint: the host row first, then the batch state. */
  private applyEnroll(input: EnrollInput, batch: FleetBatch): Applied<EnrollResult, StoreEvent> {
    const existing = batch.host(input.hostId);
    const previousEnvironment = existing?.environment ?? null;
    const previousToken = existing?.tokenHash ?? null;
    const enrollment = {
      id: input.hostId,
      environment: input.environment,
      labels: input.labels,
      tokenHash: input.tokenHash,
      at: input.at,
      agentVersion: input.agentVersion,
    };
    try {
      if (existing) this.options.hostFacts.reenrollHost(enrollment);
      else this.options.hostFacts.insertHost(enrollment);
      if (input.environment !== null) this.options.hostFacts.addEnvironment(input.environment, input.at);
      // In the enrollment's own savepoint: an enrollment is never stored without its audit entry.
      this.options.audit.appendSync({
        at: input.at,
        actor: ENROLL_SECRET_ACTOR,
        action: existing ? 'host.reenrolled' : 'host.enrolled',
        source: input.source ?? null,
        details: { hostId: input.hostId, environment: input.environment, agentVersion: input.agentVersion },
      });
      this.options.sql.flush();
    } catch (cause) {
      // Whatever failed (the host row, the audit entry), the message names the host.
      throw new StoreError('STORE_FAILED', `cannot enroll host ${input.hostId}: ${(cause as Error).message}`, {
        cause,
      });
    }
    // `existing` is the batch's own copy: a re-enrollment keeps the facts, the seq numbering restarts.
    const host = existing ?? newHostState(input.hostId, input.at);
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

  ingest(input: IngestInput): Promise<IngestResult> {
    return this.batcher.enqueue('cannot store report', (batch) => this.applyReport(input, batch));
  }

  touch(hostId: string, at: number): void {
    const host = this.options.fleet.host(hostId);
    if (!host) return;
    if (host.lastSeen === null || host.lastSeen < at) host.lastSeen = at;
    this.touches.set(hostId, Math.max(this.touches.get(hostId) ?? 0, at));
    this.batcher.schedule(this.options.touchFlushMs);
  }

  /** Commits everything queued now. */
  flush(): void {
    this.batcher.flush(Number.POSITIVE_INFINITY);
  }

  stop(): void {
    this.batcher.stop();
  }

  /** The store's side of the ingest batcher: a batch over the fleet state, its last writes, its commit. */
  private batchWork(): BatchWork<FleetBatch, StoreEvent> {
    // A nested transaction is a savepoint on both backends, so one bad report rolls back alone.
    const { sql } = this.options;
    return {
      transaction: (fn) => sql.transaction(fn),
      savepoint: <T>(fn: () => T) => sql.transaction(fn),
      pending: () => this.touches.size > 0,
      begin: () => {
        const batch = this.options.fleet.beginBatch(this.touches);
        this.touches = new Map();
        return batch;
      },
      finish: (batch) => this.finishBatch(batch),
      committed: (batch) => this.options.fleet.commit(batch),
      failed: (batch) => {
        this.options.fleet.discard(batch);
        // Keep the last-seen times for the next attempt.
        for (const [hostId, at] of batch.touches) {
          this.touches.set(hostId, Math.max(this.touches.get(hostId) ?? 0, at));
        }
      },
      changedHosts: (batch) => batch.changedHosts.size,
      writeError: (error, what) => storeFailed(what, error),
      commitError: (cause) => new StoreError('STORE_FAILED', `commit failed: ${(cause as Error).message}`, { cause }),
      emit: (event) => this.options.emit(event),
    };
  }

  /** One report inside its savepoint: planned, written, and (only if every write succeeded) made the batch state. */
  private applyReport(input: IngestInput, batch: FleetBatch): Applied<IngestResult, StoreEvent> {
    const { hostId, report, receivedAt } = input;
    const host = batch.host(hostId);
    if (!host) throw new StoreError('UNKNOWN_HOST', `host ${hostId} is not enrolled`);
    if (report.seq <= host.lastSeq) {
      return { result: { seq: report.seq, applied: false, lastSeq: host.lastSeq, resync: [], changes: 0 } };
    }
    const problem = input.pathsChecked ? undefined : findReportPathProblem(report);
    if (problem) throw new StoreError('STORE_FAILED', `report ${report.seq} rejected: ${problem}`);
    const plan = planReport(host, report, batch, {
      classify: this.options.classify,
      recordVolatileChanges: this.options.recordVolatileChanges,
    });
    if (plan.pathCount > this.options.maxHostPaths && plan.pathCount > host.pathCount) {
      // Checked before any write: the report is refused whole, the host keeps what it had.
      throw new StoreError(
        'REPORT_REJECTED',
        `report ${report.seq} rejected: the host would hold ${plan.pathCount} paths, over the ${this.options.maxHostPaths}-path limit per host`,
      );
    }
    const lastSeen = Math.max(host.lastSeen ?? 0, receivedAt);
    const meta = report.meta ?? host.meta;
    this.writePlan(host, plan, report.seq, report.observedAt);
    this.options.hostFacts.updateReportState(hostId, report.seq, lastSeen, meta);
    // Deferred writes fail here, before the batch's host takes the report: a report rolled back
    // to its savepoint must leave the host as it was (it is one round trip either way).
    this.options.sql.flush();

    applyPlan(host, plan, batch);
    Object.assign(host, { lastSeq: report.seq, lastSeen, meta });
    const result: IngestResult = {
      seq: report.seq,
      applied: true,
      lastSeq: report.seq,
      resync: plan.resync,
      changes: plan.changes.length,
    };
    if (plan.touched.length === 0) return { result };
    return {
      result,
      afterCommit: () => this.options.noteChanges(hostId, plan.changes.length),
      event: {
        type: 'facts-changed',
        hostId,
        environment: host.environment,
        seq: report.seq,
        observedAt: report.observedAt,
        categories: plan.touched,
        changes: plan.changes,
        initial: plan.initial,
      },
    };
  }

  /** A report's plan as rows. Blobs first: host_categories references them. */
  private writePlan(host: HostState, plan: ReportPlan, seq: number, at: number): void {
    for (const [hash, facts] of plan.newBlobs) this.options.hostFacts.insertBlob(hash, facts);
    for (const category of plan.touched) {
      const hash = plan.categories.get(category);
      if (hash === undefined) {
        this.options.hostFacts.deleteCategory(host.id, category);
        continue;
      }
      this.options.hostFacts.setCategory(host.id, category, hash);
      if (plan.initial) {
        this.options.hostFacts.insertInitialCategory({
          hostId: host.id,
          seq,
          at,
          environment: host.environment,
          category,
          hash,
        });
      }
    }
    for (const change of plan.changes) this.options.changes.record(change, host.environment);
  }

  /** End of a batch, still inside its transaction: fingerprints, unreferenced blobs, last-seen times. */
  private finishBatch(batch: FleetBatch): void {
    for (const hostId of batch.changedHosts) {
      const host = batch.hosts.get(hostId) as HostState;
      this.options.hostFacts.updateFingerprints(hostId, host.fingerprint, host.fingerprints);
    }
    for (const hash of batch.refDelta.keys())
      if (batch.refsAfter(hash) <= 0) this.options.hostFacts.deleteUnusedBlob(hash);
    for (const [hostId, at] of batch.touches)
      if (this.options.fleet.host(hostId)) this.options.hostFacts.touch(hostId, at);
    if (batch.hosts.size > 0) this.options.hostsWritten(batch.hosts.keys());
  }
}
