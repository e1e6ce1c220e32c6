/**
 * What the next report holds, and when one is made: categories owed `full` (`welcome.need`,
 * `resync`, after a rejected report), volatile changes held back between refreshes, collector
 * timings sent on the same cadence unless the collector errors changed. The outbox builds and
 * spools the report; report-sender.ts sends it.
 */
import type { Classifier, ReportMeta } from '@envparity/shared';
import type { Logger } from 'pino';
import { isStaleMarker } from '../collectors/process.js';
import type { CollectedFacts } from './collected-facts.js';
import { errorMessage } from './error-message.js';
import { type Outbox, QUARANTINE_DIR } from './outbox.js';
import { type Coalescer, createCoalescer, DEFAULT_AGGREGATOR_REQUEST_INTERVAL_MS } from './rate-limiter.js';
import { describeReport } from './reporter.js';

/** Changes of volatile facts alone (uptime, free memory) are sent at most this often. */
export const DEFAULT_VOLATILE_REFRESH_MS = 10 * 60_000;

export type ReportProduced = 'spooled' | 'unchanged' | 'skipped';

export interface ReportPolicyOptions {
  outbox: Outbox;
  collected: CollectedFacts;
  classify: Classifier;
  logger: Logger;
  /** False until the host holds a fleet key (enrolled and approved): nothing is reported before. */
  canReport: () => boolean;
  /** Called after a report was spooled, to send it. */
  spooled: () => void;
  volatileRefreshMs?: number;
  /** `resync` from the aggregator is honoured at most this often; more are coalesced. */
  aggregatorRequestIntervalMs?: number;
}

export class ReportPolicy {
  private readonly options: ReportPolicyOptions;
  private readonly volatileRefreshMs: number;
  private pendingFull: Set<string> | 'all' = new Set();
  /** When the last pass finished: the observedAt of reports built outside a pass (welcome, resync). */
  private lastObservedAt = 0;
  /** Timings and errors of the last pass, until a report carries them. */
  private pendingMeta: ReportMeta | undefined;
  /** When a report last carried every volatile change (none was held back). */
  private volatileSentAt = 0;
  /** The collector errors of the last `meta` sent, to send a change in them at once. */
  private sentMetaErrorsKey: string | undefined;
  private readonly resyncRequests: Coalescer<true>;
  private stopped = false;

  constructor(options: ReportPolicyOptions) {
    this.options = options;
    this.volatileRefreshMs = options.volatileRefreshMs ?? DEFAULT_VOLATILE_REFRESH_MS;
    this.resyncRequests = createCoalescer<true>({
      intervalMs: options.aggregatorRequestIntervalMs ?? DEFAULT_AGGREGATOR_REQUEST_INTERVAL_MS,
      merge: () => true,
      run: () => {
        this.produce('resync').catch((error: unknown) =>
          options.logger.error({ err: errorMessage(error) }, 'failed to build the resync report'),
        );
      },
    });
  }

  /** Categories the next report sends whole. */
  requireFull(categories: readonly string[] | 'all'): void {
    if (categories === 'all' || this.pendingFull === 'all') {
      this.pendingFull = 'all';
      return;
    }
    for (const category of categories) this.pendingFull.add(category);
  }

  /** `resync`: the categories go full in a report built from the last collected facts (coalesced). */
  resync(reason: string, categories: readonly string[] | undefined): void {
    this.options.logger.info({ reason: reason.slice(0, 200), categories }, 'the aggregator asked for a resync');
    this.requireFull(categories ?? 'all');
    this.resyncRequests.request(true);
  }

  /** A pass finished: its time and meta go with the next report. */
  passDone(observedAt: number, meta: ReportMeta): void {
    this.lastObservedAt = observedAt;
    this.pendingMeta = meta;
  }

  /**
   * The aggregator rejected a report as invalid: replaying it would be rejected forever and block
   * every later report. The unacknowledged reports go to `<state>/quarantine/` and the next
   * report is a fresh full one.
   */
  reportsRejected(code: number, reason: string): void {
    const { outbox, logger } = this.options;
    this.requireFull('all');
    outbox.quarantineUnacknowledged().then(
      (seqs) => {
        if (seqs.length === 0) return;
        logger.error(
          { code, reason, seqs: [seqs[0], seqs.at(-1)], count: seqs.length, dir: QUARANTINE_DIR },
          'the aggregator rejected a report as invalid: unacknowledged reports quarantined, a fresh full report follows',
        );
      },
      (error: unknown) => logger.error({ err: errorMessage(error) }, 'failed to quarantine rejected reports'),
    );
  }

  /** No report is made after this. */
  stop(): void {
    this.stopped = true;
    this.resyncRequests.close();
  }

  /** Turns the current facts into a spooled report (or nothing when unchanged) and has it sent. */
  async produce(reason: string): Promise<ReportProduced> {
    const { outbox, collected, classify, logger } = this.options;
    if (!collected.ready || !this.options.canReport() || this.stopped) return 'skipped';
    const meta = this.pendingMeta;
    const full = this.pendingFull;
    const fullRequested = full === 'all' || full.size > 0;
    const now = Date.now();
    // Volatile changes (uptime, free memory) are sent at most every volatileRefreshMs: in between they
    // are held back, even from a report that other changes make, so a one-path change stays one path.
    const holdVolatile =
      !fullRequested && this.volatileRefreshMs > 0 && now - this.volatileSentAt < this.volatileRefreshMs;
    // Collector timings ride on the same cadence (they change every pass and would triple a one-path
    // report); a change in collector errors is sent at once.
    const metaErrorsKey = meta ? JSON.stringify(meta.errors ?? []) : undefined;
    const sendMeta = meta !== undefined && (!holdVolatile || metaErrorsKey !== this.sentMetaErrorsKey);
    const outcome = await outbox.report({
      current: collected.facts(),
      observedAt: this.lastObservedAt,
      ...(fullRequested ? { full } : {}),
      ...(sendMeta ? { meta } : {}),
      ...(holdVolatile ? { holdBack: (path: string) => classify(path) === 'volatile' && !isStaleMarker(path) } : {}),
    });
    if (outcome.status !== 'spooled') return outcome.status === 'unchanged' ? 'unchanged' : 'skipped';
    if (!holdVolatile) this.volatileSentAt = now;
    if (sendMeta) {
      this.sentMetaErrorsKey = metaErrorsKey;
      if (this.pendingMeta === meta) this.pendingMeta = undefined;
    }
    this.fullSent(full);
    const summary = describeReport(outcome.body);
    logger.info(
      { reason, seqs: outcome.seqs, full: summary.full, delta: summary.delta, paths: summary.paths },
      'report spooled',
    );
    this.options.spooled();
    return 'spooled';
  }

  /** The categories a spooled report sent full are owed no longer (unless asked again meanwhile: `all`). */
  private fullSent(full: Set<string> | 'all'): void {
    if (full === 'all') {
      if (this.pendingFull === 'all') this.pendingFull = new Set();
    } else if (this.pendingFull !== 'all') {
      for (const category of full) this.pendingFull.delete(category);
    }
  }
}
