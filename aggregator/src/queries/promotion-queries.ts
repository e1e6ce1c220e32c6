/**
 * Promotion tracking (issue 13 req 4): changes an upstream environment got that its downstream has
 * not yet, and changes that reached downstream first (out of order). Per pair only the histories of
 * the paths that can matter are read (promotion-candidates.ts, indexed by path), and each baseline's
 * hosts are grouped by category blob once per request; the rest is promotion-tracking.ts, pure.
 */
import { createExceptionMatcher, createSecretPolicyMatcher } from '@envparity/shared';
import type { EnvironmentState } from '../drift/environment-states.js';
import { InvalidRequestError } from '../errors.js';
import type { FactStore } from '../store/fact-store.js';
import type { FleetQueries } from './fleet-queries.js';
import { outOfOrderPaths, waitingPaths } from './promotion-candidates.js';
import { PromotionHistory } from './promotion-history.js';
import { valueHoldersOf } from './promotion-holders.js';
import {
  bothReport,
  type JustifiedChange,
  type OutOfOrderChange,
  outOfOrderCandidates,
  type PairInput,
  type PromotionSide,
  type WaitingChange,
  waitingChanges,
} from './promotion-tracking.js';

export type { JustifiedChange, OutOfOrderChange, WaitingChange } from './promotion-tracking.js';

/** Changes read per environment at most (newest first); past it the oldest are not looked at. */
export const DEFAULT_PROMOTION_MAX_CHANGES = 500_000;

export const PROMOTION_NOT_CONFIGURED =
  'promotion order is not configured: set `promotion: [dev, staging, production]` in the aggregator config, ' +
  'or ask for one pair with ?from=A&to=B';

export interface PromotionQueriesDeps {
  queries: FleetQueries;
  store: FactStore;
  now?: () => number;
  /** Look back at most this far (ms); default: the whole stored history (config `retention` bounds it). */
  lookbackMs?: number;
  maxChanges?: number;
}

export interface PromotionPair {
  from: string;
  to: string;
  /** Oldest first. */
  waiting: WaitingChange[];
  /** Oldest first. */
  outOfOrder: OutOfOrderChange[];
  /** Changes of `from` that `to` lacks on purpose (an active exception between the two). */
  justified: JustifiedChange[];
  /** Why the lists are empty whatever happened: a side has no reporting hosts yet. */
  note?: string;
}

export interface PromotionReport {
  at: number;
  pairs: PromotionPair[];
  /** Why `pairs` is empty (no promotion order configured). */
  note?: string;
  /** Some environment had more than `maxChanges` recorded changes in the window: its oldest were not read. */
  historyTruncated: boolean;
}

/** For the overview: how many changes wait, and since when the oldest does. */
export interface PromotionBacklog {
  pairs: { from: string; to: string; waiting: number; oldestSince: number | null }[];
  waiting: number;
  oldestSince: number | null;
}

export class PromotionQueries {
  private readonly queries: FleetQueries;
  private readonly store: FactStore;
  private readonly now: () => number;
  private readonly lookbackMs: number | undefined;
  private readonly maxChanges: number;

  constructor({
    queries,
    store,
    now = Date.now,
    lookbackMs,
    maxChanges = DEFAULT_PROMOTION_MAX_CHANGES,
  }: PromotionQueriesDeps) {
    this.queries = queries;
    this.store = store;
    this.now = now;
    this.lookbackMs = lookbackMs;
    this.maxChanges = maxChanges;
  }

  /** The adjacent pairs of the promotion order, upstream first. */
  defaultPairs(): { from: string; to: string }[] {
    const order = this.queries.promotion;
    return order.slice(1).map((to, index) => ({ from: order[index] as string, to }));
  }

  /**
   * One pair (both given; unknown names are a NotFoundError, the same twice an InvalidRequestError),
   * or every adjacent pair of the promotion order.
   */
  async report(pair?: { from: string; to: string }): Promise<PromotionReport> {
    const at = this.now();
    const pairs = pair ? [this.checkedPair(pair)] : this.defaultPairs();
    if (pairs.length === 0) return { at, pairs: [], note: PROMOTION_NOT_CONFIGURED, historyTruncated: false };
    const reading = this.reading(at);
    const results: PromotionPair[] = [];
    for (const { from, to } of pairs) {
      const input = await this.pairInput(reading, from, to, at);
      const { waiting, justified } = waitingChanges(input);
      const outOfOrder = await this.outOfOrder(input);
      const result: PromotionPair = { from, to, waiting, outOfOrder, justified };
      if (!bothReport(input)) {
        const empty = input.from.holders.total === 0 ? from : to;
        result.note = `${empty} has no reporting hosts yet: nothing can be tracked between ${from} and ${to}`;
      }
      results.push(result);
    }
    return { at, pairs: results, historyTruncated: reading.truncated };
  }

  /** Changes waiting per adjacent pair (no out-of-order list): the overview's line. Null without a promotion order. */
  async backlog(): Promise<PromotionBacklog | null> {
    const pairs = this.defaultPairs();
    if (pairs.length === 0) return null;
    const at = this.now();
    const reading = this.reading(at);
    const backlog: PromotionBacklog = { pairs: [], waiting: 0, oldestSince: null };
    for (const { from, to } of pairs) {
      // Waiting needs only the paths where the baselines differ: no out-of-order candidates here.
      const { waiting } = waitingChanges(await this.pairInput(reading, from, to, at, false));
      const oldestSince = waiting[0]?.since ?? null;
      backlog.pairs.push({ from, to, waiting: waiting.length, oldestSince });
      backlog.waiting += waiting.length;
      if (oldestSince !== null && (backlog.oldestSince === null || oldestSince < backlog.oldestSince)) {
        backlog.oldestSince = oldestSince;
      }
    }
    return backlog;
  }

  private checkedPair({ from, to }: { from: string; to: string }): { from: string; to: string } {
    this.queries.knownEnvironment(from);
    this.queries.knownEnvironment(to);
    if (from === to) {
      throw new InvalidRequestError(
        `query parameter \`to\`: must be another environment than \`from\` (both are ${JSON.stringify(from)})`,
        'to',
      );
    }
    return { from, to };
  }

  /** Per-request reads of the change history (and whether one was cut at `maxChanges`). */
  private reading(at: number) {
    const reading = {
      truncated: false,
      /** The changes of `paths` recorded in `environment` (in the look-back window, newest first). */
      history: async (environment: string, paths: ReadonlySet<string>): Promise<PromotionHistory> => {
        if (paths.size === 0) return new PromotionHistory([]);
        const changes = await this.store.listEnvironmentChanges(environment, {
          ...(this.lookbackMs !== undefined ? { since: at - this.lookbackMs } : {}),
          order: 'newest',
          limit: this.maxChanges + 1,
          paths: [...paths],
        });
        if (changes.length > this.maxChanges) {
          reading.truncated = true;
          changes.length = this.maxChanges;
        }
        return new PromotionHistory(changes);
      },
    };
    return reading;
  }

  /**
   * Reads only the histories that can matter (promotion-candidates.ts): `from`'s of the paths where
   * the baselines differ or `to` holds a value `from`'s baseline lacks, `to`'s of the latter.
   */
  private async pairInput(
    reading: ReturnType<PromotionQueries['reading']>,
    from: string,
    to: string,
    at: number,
    withOutOfOrder = true,
  ): Promise<PairInput> {
    // Commit buffered reports first: the states below and the histories then agree.
    await this.store.flush();
    const fromState = this.queries.environment(from);
    const toState = this.queries.environment(to);
    const secrets = createSecretPolicyMatcher(this.queries.secretPolicy);
    const expectedToDiffer = (path: string) => secrets(path)?.expect === 'differ';
    const tracked = (path: string) => this.queries.classify(path) === 'behavior' && !expectedToDiffer(path);
    const toPaths = withOutOfOrder
      ? outOfOrderPaths(fromState, toState, valueHoldersOf(toState, this.queries.classify), tracked)
      : new Set<string>();
    const fromPaths = new Set([...waitingPaths(fromState, toState, tracked), ...toPaths]);
    const side = (state: EnvironmentState, history: PromotionHistory): PromotionSide => ({
      environment: state.environment,
      baseline: state.baseline.facts,
      holders: valueHoldersOf(state, this.queries.classify),
      history,
    });
    return {
      from: side(fromState, await reading.history(from, fromPaths)),
      to: side(toState, await reading.history(to, toPaths)),
      classify: this.queries.classify,
      exceptionFor: createExceptionMatcher(this.queries.exceptionRules(), from, to, new Date(at)),
      expectedToDiffer,
      enrolledAt: (hostId) => this.store.getHost(hostId)?.enrolledAt,
      now: at,
    };
  }

  /** The out-of-order candidates less those `from` started with (initial states, one batched look-up). */
  private async outOfOrder(input: PairInput): Promise<OutOfOrderChange[]> {
    const candidates = outOfOrderCandidates(input);
    // No recorded change of `from` to it: did `from` start with it (taken as in order)?
    const unexplained = candidates.filter(({ fromArrival }) => fromArrival === undefined);
    const startedWith = await this.store.environmentHadValues(input.from.environment, unexplained);
    const inOrder = new Set(unexplained.filter((_, index) => startedWith[index]));
    return candidates.filter((candidate) => !inOrder.has(candidate)).map(({ fromArrival: _, ...change }) => change);
  }
}
