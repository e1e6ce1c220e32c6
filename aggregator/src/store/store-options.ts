/** Options every fact store takes, whatever holds its data, and their defaults. */
import type { Classifier } from '@envparity/shared';
import type { StoreSignals } from './store-signals.js';

/** Longest time a report waits in the buffer before its transaction commits. */
export const DEFAULT_FLUSH_INTERVAL_MS = 50;
/** A buffer of this many reports commits at once, without waiting for the interval. */
export const DEFAULT_FLUSH_MAX_REPORTS = 256;
/** Work one transaction may do before committing and letting the event loop run (the rest follows at once). */
export const DEFAULT_FLUSH_BUDGET_MS = 25;
/** Last-seen updates alone (heartbeats) are coalesced over this long. */
export const DEFAULT_TOUCH_FLUSH_MS = 1000;

export interface FactStoreOptions {
  /** What other aggregators on the same database are told of this one's writes (PostgreSQL; none by default). */
  signals?: StoreSignals;
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
  /** Where failing event listeners are reported (and background work: history compaction, the host-count file). */
  onListenerError?: (error: unknown) => void;
  /** Per-host quota of change rows; older changes are folded into the initial state (history-compaction.ts). */
  maxChangesPerHost?: number;
  /**
   * How long changes are kept (ms; config `retention.changes`, default DEFAULT_CHANGE_RETENTION_MS,
   * 400 days): older ones are folded into the host's initial state by a background pass
   * (history-retention.ts). null: kept until the per-host quota folds them.
   */
  changeRetentionMs?: number | null;
  /** Time between retention passes (default hourly) and before the first one after open (default 60 s). */
  retentionIntervalMs?: number;
  retentionStartDelayMs?: number;
  /** The clock retention measures the edge with (tests simulate one); default Date.now. */
  now?: () => number;
  /** Paths one host may hold over all its categories (default MAX_HOST_PATHS); a report past it is refused. */
  maxHostPaths?: number;
}
