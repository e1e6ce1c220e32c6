/**
 * "Is this difference drift, justified or scale", decided once for every place that judges a
 * difference: `compareFacts` (the API's compare and drift between environments), outliers inside
 * an environment, drift events and the agent's `verify`. Each of them finds the exception that
 * covers the difference its own way (a pair, one environment, none); what that exception and the
 * path's class make of the difference is this one rule, so they can never disagree.
 */
import type { FactClass } from './classes.js';

/** Every status a difference can have; `secret-policy` only from a comparison with a secret policy. */
export const DIFFERENCE_STATUSES = ['drift', 'justified', 'scale', 'secret-policy'] as const;
export type DifferenceStatus = (typeof DIFFERENCE_STATUSES)[number];
/** The order lists show statuses in: what needs action first (drift, a broken secret policy), then the rest. */
export const DIFFERENCE_STATUS_ORDER: readonly DifferenceStatus[] = ['drift', 'secret-policy', 'justified', 'scale'];

/** Rank of a status in DIFFERENCE_STATUS_ORDER (unknown ones last), for sorting. */
export function differenceStatusRank(status: string): number {
  const rank = DIFFERENCE_STATUS_ORDER.indexOf(status as DifferenceStatus);
  return rank === -1 ? DIFFERENCE_STATUS_ORDER.length : rank;
}

/** The statuses a comparison without a secret policy can produce (what `differenceStatus` returns). */
export type PlainDifferenceStatus = Exclude<DifferenceStatus, 'secret-policy'>;

export interface DifferenceToJudge {
  /** The path's class. Callers compare behavior and scale paths; any other class is judged like behavior. */
  factClass: FactClass;
  /** The active exception covering the difference, if any (found by `createExceptionMatcher`). */
  exception?: { id: string; reason: string } | undefined;
}

/**
 * Scale differences are `scale` (sizes and counts: reported, never drift, whatever exception
 * exists); every other difference is `drift` unless an active exception covers it, then
 * `justified`. A path an expectation file names explicitly is judged like behavior, whatever its
 * class: someone asked about it.
 */
export function differenceStatus({ factClass, exception }: DifferenceToJudge): PlainDifferenceStatus {
  if (factClass === 'scale') return 'scale';
  return exception === undefined ? 'drift' : 'justified';
}
