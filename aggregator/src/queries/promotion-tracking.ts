/**
 * Promotion tracking for one pair of environments, pure: baselines, value holders and change
 * histories in, the changes waiting to be promoted and the out-of-order candidates out.
 *
 * - Waiting (`promote`): a behavior path `from` changed to a value its baseline holds now and `to`'s
 *   baseline does not hold yet. A value `from` held before any recorded change to it (a host that
 *   joined with it earlier) is no promotion: that is a difference the two always had (drift, seen
 *   on compare).
 * - Out of order (`apply to upstream`): a behavior path `to` changed to a value some of its hosts
 *   still hold, which `from`'s baseline does not hold and `from` did not get before `to` did.
 *   Whether `from` had it from an initial state (no recorded change) is asked of the store by
 *   the caller (`fromArrival` undefined).
 * A side without reporting hosts has nothing to compare: both lists are empty.
 * Identity, volatile and scale paths never count; nor secrets the config's `secretPolicy` expects
 * to differ; a path an active exception covers between the pair is `justified`, not waiting.
 */
import {
  type Classifier,
  categoryOf,
  compareStrings,
  type ExceptionRule,
  type FactMap,
  type FactValue,
  factValuesEqual,
  ownValue,
} from '@envparity/shared';
import type { HostSnapshot } from '../drift/baseline.js';
import type { ArrivedValue, PromotionHistory } from './promotion-history.js';
import type { Holders } from './promotion-holders.js';

export const PROMOTE_ACTION = 'promote';
export const UPSTREAM_ACTION = 'apply to upstream';

/** What both lists say of a change. Times in ms. */
export interface PromotionChange {
  path: string;
  category: string;
  /** The new value. */
  value: FactValue;
  /** What the first change to it replaced; absent when that change added the path. */
  previous?: FactValue;
  /** When the first host (of `from` for waiting, of `to` for out of order) got it. */
  since: number;
  ageSeconds: number;
  /** Hosts of `from`'s baseline holding the value, of `fromTotal`. */
  fromHosts: number;
  fromTotal: number;
  /** Hosts of `to`'s baseline holding the value so far, of `toTotal`. */
  toHosts: number;
  toTotal: number;
}

export interface WaitingChange extends PromotionChange {
  action: typeof PROMOTE_ACTION;
  /** `to`'s baseline value; absent when `to` lacks the path or its hosts are tied. */
  toValue?: FactValue;
  /** When more than half of `from`'s baseline hosts held it; null while it is dominant without a majority. */
  majoritySince: number | null;
}

export interface OutOfOrderChange extends PromotionChange {
  action: typeof UPSTREAM_ACTION;
  /** `from`'s baseline value; absent when `from` lacks the path or its hosts are tied. */
  fromValue?: FactValue;
}

/** A change of `from` that `to` does not have, covered by an active exception between the two. */
export interface JustifiedChange {
  path: string;
  category: string;
  value: FactValue;
  toValue?: FactValue;
  exception: { id: string; reason: string };
}

/** An out-of-order change before the store said whether `from` started with the value. */
export interface OutOfOrderCandidate extends OutOfOrderChange {
  /** When `from` first changed to the value (after `to` did), if it did. */
  fromArrival: number | undefined;
}

/** One side of a pair: its baseline facts, who holds what, its history. */
export interface PromotionSide {
  environment: string;
  baseline: Readonly<FactMap>;
  holders: Holders;
  history: PromotionHistory;
}

export interface PairInput {
  from: PromotionSide;
  to: PromotionSide;
  classify: Classifier;
  /** The active exception covering `path` between the pair (shared `createExceptionMatcher`). */
  exceptionFor: (path: string) => ExceptionRule | undefined;
  /** Paths whose secret hashes are expected to differ between environments (config `secretPolicy`). */
  expectedToDiffer: (path: string) => boolean;
  /** When a host was enrolled: when it got the values it started with. */
  enrolledAt: (hostId: string) => number | undefined;
  now: number;
}

/** Whether a baseline holds `path` = `value`. */
export function holds(baseline: Readonly<FactMap>, path: string, value: FactValue): boolean {
  const held = ownValue(baseline, path);
  return held !== undefined && factValuesEqual(held, value);
}

function tracked(input: PairInput, path: string): boolean {
  return input.classify(path) === 'behavior' && !input.expectedToDiffer(path);
}

/**
 * When each holder got the value: its latest recorded change of the path when that is the change to
 * it, else its enrollment (it started with it). Undefined when a holder had the value before the
 * value's first recorded change: the environment did not get it by that change.
 */
function acquisitions(
  holders: readonly HostSnapshot[],
  side: PromotionSide,
  arrived: ArrivedValue,
  enrolledAt: PairInput['enrolledAt'],
): number[] | undefined {
  const times: number[] = [];
  for (const host of holders) {
    const latest = side.history.latestChange(host.id, arrived.path);
    if (latest?.to !== undefined && factValuesEqual(latest.to, arrived.value)) {
      times.push(latest.at);
      continue;
    }
    const joined = enrolledAt(host.id) ?? arrived.first;
    if (joined < arrived.first) return undefined;
    times.push(joined);
  }
  return times;
}

/** Nothing travels to or from an environment none of whose hosts reported facts (declared ahead of them). */
export function bothReport(input: PairInput): boolean {
  return input.from.holders.total > 0 && input.to.holders.total > 0;
}

function ageSeconds(since: number, now: number): number {
  return Math.max(0, Math.floor((now - since) / 1000));
}

function oldestFirst(a: PromotionChange, b: PromotionChange): number {
  return a.since - b.since || compareStrings(a.path, b.path);
}

/** `from`'s changes `to` has not got yet (oldest first), and those an exception justifies. */
export function waitingChanges(input: PairInput): { waiting: WaitingChange[]; justified: JustifiedChange[] } {
  const { from, to, now } = input;
  const waiting: WaitingChange[] = [];
  const justified: JustifiedChange[] = [];
  if (!bothReport(input)) return { waiting, justified };
  for (const arrived of from.history.arrivedValues()) {
    const { path, value } = arrived;
    if (!holds(from.baseline, path, value) || holds(to.baseline, path, value) || !tracked(input, path)) continue;
    const toValue = ownValue(to.baseline, path);
    const category = categoryOf(path);
    const exception = input.exceptionFor(path);
    if (exception) {
      justified.push({
        path,
        category,
        value,
        ...(toValue !== undefined ? { toValue } : {}),
        exception: { id: exception.id, reason: exception.reason },
      });
      continue;
    }
    const holders = from.holders.hosts(path, value);
    const times = acquisitions(holders, from, arrived, input.enrolledAt);
    if (times === undefined) continue;
    times.sort((a, b) => a - b);
    const majority = Math.floor(from.holders.total / 2) + 1;
    waiting.push({
      path,
      category,
      value,
      ...(arrived.previous !== undefined ? { previous: arrived.previous } : {}),
      since: arrived.first,
      ageSeconds: ageSeconds(arrived.first, now),
      fromHosts: holders.length,
      fromTotal: from.holders.total,
      toHosts: to.holders.count(path, value),
      toTotal: to.holders.total,
      action: PROMOTE_ACTION,
      ...(toValue !== undefined ? { toValue } : {}),
      majoritySince: times.length >= majority ? (times[majority - 1] as number) : null,
    });
  }
  waiting.sort(oldestFirst);
  justified.sort((a, b) => compareStrings(a.path, b.path));
  return { waiting, justified };
}

/** `to`'s changes that did not come through `from` (before the store's "did `from` start with it"). */
export function outOfOrderCandidates(input: PairInput): OutOfOrderCandidate[] {
  const { from, to, now } = input;
  const candidates: OutOfOrderCandidate[] = [];
  if (!bothReport(input)) return candidates;
  for (const arrived of to.history.arrivedValues()) {
    const { path, value } = arrived;
    if (holds(from.baseline, path, value) || !tracked(input, path) || input.exceptionFor(path)) continue;
    const fromArrival = from.history.arrival(path, value)?.first;
    if (fromArrival !== undefined && fromArrival <= arrived.first) continue;
    const holders = to.holders.hosts(path, value);
    // Rolled back (or moved on) everywhere: nothing left to back-port.
    if (holders.length === 0) continue;
    if (acquisitions(holders, to, arrived, input.enrolledAt) === undefined) continue;
    const fromValue = ownValue(from.baseline, path);
    candidates.push({
      path,
      category: categoryOf(path),
      value,
      ...(arrived.previous !== undefined ? { previous: arrived.previous } : {}),
      since: arrived.first,
      ageSeconds: ageSeconds(arrived.first, now),
      fromHosts: from.holders.count(path, value),
      fromTotal: from.holders.total,
      toHosts: holders.length,
      toTotal: to.holders.total,
      action: UPSTREAM_ACTION,
      ...(fromValue !== undefined ? { fromValue } : {}),
      fromArrival,
    });
  }
  candidates.sort(oldestFirst);
  return candidates;
}
