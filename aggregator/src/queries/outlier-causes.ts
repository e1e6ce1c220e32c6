/**
 * An environment's outliers grouped by cause (a path and both its values), the expensive half of
 * `FleetQueries.outlierGroups`: which hosts share which difference. It depends only on the
 * environment state (an immutable snapshot), so it is computed once per state and kept with it;
 * judging with the exceptions (which change, and expire) is the cheap half, done per request.
 * Host ids are merged only for the groups a page shows.
 */
import { compareStrings, type DifferenceStatus, differenceStatusRank } from '@envparity/shared';
import type { EnvironmentState } from '../drift/environment-states.js';
import { causeKey } from '../drift/outlier-groups.js';
import type { PathDifference } from '../drift/outliers.js';

/** One cause: its difference, how many hosts have it, and the first host ids of each list holding it. */
export interface OutlierCause {
  difference: PathDifference;
  /** `causeKey` of the difference. */
  key: string;
  hostCount: number;
  /** Sorted id lists (one per difference list with the cause), each capped at `hostsPerGroup`. */
  hostLists: string[][];
  /** The first `hostsPerGroup` of all of them, merged on first use. */
  merged?: string[];
}

export interface OutlierCauses {
  causes: OutlierCause[];
  /** Hosts with at least one of the differences counted (behavior, or scale too). */
  outlierHosts: number;
}

const byState = new WeakMap<EnvironmentState, Map<string, OutlierCauses>>();
/** Difference objects live in the state's outlier index (shared across states of one baseline): key them once. */
const keys = new WeakMap<PathDifference, string>();

function keyOf(difference: PathDifference): string {
  let key = keys.get(difference);
  if (key === undefined) {
    key = causeKey(difference);
    keys.set(difference, key);
  }
  return key;
}

/** The causes of a state's outliers (kept with the state). */
export function outlierCauses(state: EnvironmentState, includeScale: boolean, hostsPerGroup: number): OutlierCauses {
  let cached = byState.get(state);
  if (!cached) {
    cached = new Map();
    byState.set(state, cached);
  }
  const cacheKey = `${includeScale}:${hostsPerGroup}`;
  let result = cached.get(cacheKey);
  if (!result) {
    result = computeCauses(state, includeScale, hostsPerGroup);
    cached.set(cacheKey, result);
  }
  return result;
}

function computeCauses(state: EnvironmentState, includeScale: boolean, hostsPerGroup: number): OutlierCauses {
  // The difference lists the hosts have, each with its host count and first host ids (hosts by id).
  const lists = new Map<string, { diffs: readonly PathDifference[]; hostCount: number; hosts: string[] }>();
  let outlierHosts = 0;
  for (const host of state.sortedBaselineHosts()) {
    let off = false;
    for (const list of state.index.host(host)) {
      if ((includeScale ? list.diffs.length : list.behavior) === 0) continue;
      off = true;
      let entry = lists.get(list.key);
      if (!entry) {
        entry = { diffs: list.diffs, hostCount: 0, hosts: [] };
        lists.set(list.key, entry);
      }
      entry.hostCount++;
      if (entry.hosts.length < hostsPerGroup) entry.hosts.push(host.id);
    }
    if (off) outlierHosts++;
  }
  const byCause = new Map<string, OutlierCause>();
  for (const { diffs, hostCount, hosts } of lists.values()) {
    for (const difference of diffs) {
      if (difference.class === 'scale' && !includeScale) continue;
      const key = keyOf(difference);
      const cause = byCause.get(key);
      // One blob per host and category: lists of one cause never share a host.
      if (cause) {
        cause.hostCount += hostCount;
        cause.hostLists.push(hosts);
      } else byCause.set(key, { difference, key, hostCount, hostLists: [hosts] });
    }
  }
  return { causes: [...byCause.values()], outlierHosts };
}

/** The first `cap` host ids with the cause, by id. */
export function causeHosts(cause: OutlierCause, cap: number): string[] {
  if (!cause.merged) {
    cause.merged =
      cause.hostLists.length === 1
        ? (cause.hostLists[0] as string[])
        : cause.hostLists.flat().sort(compareStrings).slice(0, cap);
  }
  return cause.merged;
}

/** Drift first, then justified, then scale; most hosts first; then by path and cause. */
export function byCauseRank(
  a: { status: DifferenceStatus; hostCount: number; path: string; key: string },
  b: { status: DifferenceStatus; hostCount: number; path: string; key: string },
): number {
  return (
    differenceStatusRank(a.status) - differenceStatusRank(b.status) ||
    b.hostCount - a.hostCount ||
    compareStrings(a.path, b.path) ||
    compareStrings(a.key, b.key)
  );
}
