/**
 * Collection passes, one at a time: the periodic full pass (every `interval` seconds), watched
 * changes and `collect` requests (only the collectors named), each queued and merged while one
 * runs. A pass is bounded (fact-bounds.ts) and recorded in CollectedFacts; what it means for the
 * next report is the owner's business (`passDone`).
 */
import type { AgentConfig, ReportMeta } from '@envparity/shared';
import type { Logger } from 'pino';
import { collectPass } from '../collect.js';
import type { Collector } from '../collectors/types.js';
import type { CollectedFacts } from './collected-facts.js';
import { errorMessage } from './error-message.js';
import { enforceFactBounds } from './fact-bounds.js';
import { type Coalescer, createCoalescer, DEFAULT_AGGREGATOR_REQUEST_INTERVAL_MS } from './rate-limiter.js';

/** The collectors a pass runs: `all`, or those named like these categories. */
export type PassSelection = Set<string> | 'all';

export interface FinishedPass {
  /** The pass ran every collector (a periodic or first pass), not only some. */
  complete: boolean;
  /** When the collection finished (ms since the epoch). */
  observedAt: number;
  meta: ReportMeta;
}

export interface CollectionPassesOptions {
  config: AgentConfig;
  stateDir: string;
  hostId: string;
  collectors: readonly Collector[];
  collected: CollectedFacts;
  logger: Logger;
  /** The fleet key secrets are hashed with; undefined until enrolled (no pass runs then). */
  fleetKey: () => string | undefined;
  /** After each pass recorded in `collected`. */
  passDone: (pass: FinishedPass) => Promise<void>;
  /** `collect` from the aggregator is honoured at most this often; more are coalesced. */
  aggregatorRequestIntervalMs?: number;
}

export class CollectionPasses {
  private readonly options: CollectionPassesOptions;
  private pending: PassSelection | undefined;
  private waiters: (() => void)[] = [];
  private loop: Promise<void> | undefined;
  private intervalTimer: NodeJS.Timeout | undefined;
  private readonly aggregatorRequests: Coalescer<PassSelection>;
  private stopped = false;

  constructor(options: CollectionPassesOptions) {
    this.options = options;
    this.aggregatorRequests = createCoalescer<PassSelection>({
      intervalMs: options.aggregatorRequestIntervalMs ?? DEFAULT_AGGREGATOR_REQUEST_INTERVAL_MS,
      merge: (a, b) => (a === 'all' || b === 'all' ? 'all' : new Set([...a, ...b])),
      run: (what) => {
        options.logger.info(
          { categories: what === 'all' ? undefined : [...what], coalesced: this.aggregatorRequests.coalesced },
          'the aggregator asked for a collection',
        );
        void this.schedule(what);
      },
    });
  }

  /** Queues a pass (merged with one already queued); resolves once it ran, or at stop. */
  schedule(what: PassSelection): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (what === 'all' || this.pending === 'all') this.pending = 'all';
    else this.pending = new Set([...(this.pending ?? []), ...what]);
    const done = new Promise<void>((resolve) => this.waiters.push(resolve));
    this.kick();
    return done;
  }

  /** `collect` from the aggregator: at most once per interval, a flood is coalesced into one later pass. */
  requestFromAggregator(categories: readonly string[] | undefined): void {
    this.aggregatorRequests.request(categories && categories.length > 0 ? new Set(categories) : 'all');
  }

  /** No pass starts after this; every caller waiting for one is released. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.intervalTimer);
    this.aggregatorRequests.close();
    resolveAll(this.waiters.splice(0));
  }

  private kick(): void {
    if (this.loop || this.stopped || !this.pending) return;
    this.loop = this.runQueued().finally(() => {
      this.loop = undefined;
      this.kick();
    });
  }

  private async runQueued(): Promise<void> {
    while (this.pending && !this.stopped) {
      const what = this.pending;
      const waiters = this.waiters.splice(0);
      this.pending = undefined;
      try {
        await this.run(what);
      } catch (error) {
        this.options.logger.error({ err: errorMessage(error) }, 'collection pass failed');
      } finally {
        resolveAll(waiters);
      }
    }
    if (this.stopped) resolveAll(this.waiters.splice(0));
  }

  private async run(what: PassSelection): Promise<void> {
    const { config, logger, collected } = this.options;
    const fleetKey = this.options.fleetKey();
    if (fleetKey === undefined) {
      logger.debug({}, 'not enrolled yet: collection waits for the fleet key');
      return;
    }
    const all = this.options.collectors;
    let selected = what === 'all' ? all : all.filter((collector) => what.has(collector.name));
    if (selected.length === 0) selected = all;
    const complete = selected.length === all.length;
    if (complete) this.scheduleInterval();
    const { document, results } = await collectPass({
      config,
      stateDir: this.options.stateDir,
      hashKey: fleetKey,
      hostId: this.options.hostId,
      collectors: selected,
    });
    const observedAt = Date.now();
    if (this.stopped) return;
    // Values over 64 KB are sent hashed, and a host past 200k paths has its largest categories refused.
    const parts = results.flatMap((result) => (result.facts ? [result.facts] : []));
    document.errors.push(...enforceFactBounds(document.facts, parts));
    if (this.options.fleetKey() !== fleetKey) {
      // Re-enrolled with another fleet key during the pass: its secret hashes are stale.
      void this.schedule('all');
      return;
    }
    for (const result of results) {
      if (result.facts) {
        // The bounds may have refused paths of the collector (past the per-host path cap).
        for (const path of Object.keys(result.facts))
          if (!Object.hasOwn(document.facts, path)) delete result.facts[path];
      } else {
        logger.warn({ collector: result.name, timedOut: result.timedOut ?? false }, 'collector failed');
        logger.debug({ collector: result.name, err: result.error?.slice(0, 300) }, 'collector error');
      }
    }
    collected.record({ results, complete });
    const failed = results.filter((result) => !result.facts).length;
    logger.debug(
      { collectors: selected.map((c) => c.name), durationMs: document.durationMs, failed },
      'collection pass done',
    );
    const meta = { durationMs: document.durationMs, collectors: document.collectors, errors: document.errors };
    await this.options.passDone({ complete, observedAt, meta });
  }

  private scheduleInterval(): void {
    clearTimeout(this.intervalTimer);
    if (this.stopped) return;
    this.intervalTimer = setTimeout(() => void this.schedule('all'), this.options.config.interval * 1000);
  }
}

function resolveAll(waiters: readonly (() => void)[]): void {
  for (const resolve of waiters) resolve();
}
