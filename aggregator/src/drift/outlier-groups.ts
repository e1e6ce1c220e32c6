/**
 * Outlier events grouped by cause. A host off its environment's baseline joins the group of its
 * first drifting path with the same values (the cause: "LOG_LEVEL is debug, baseline info"), so a
 * hotfix on N hosts is one event listing N hosts, not N events. Membership is sticky: a host stays
 * in its group while it drifts at all (its other paths show in the event's `count` and `paths`), so
 * one host is in at most one group and the number of events stays bounded by the number of hosts.
 * A member whose only difference became a tie stays too: a tie is undecided, not fixed.
 */
import { canonicalValue, compareStrings, type FactValue } from '@envparity/shared';
import { type HostDrift, OUTLIER_EVENT_PATHS } from './host-outliers.js';
import type { PathDifference } from './outliers.js';

export interface OutlierGroup {
  key: string;
  path: string;
  expected?: FactValue;
  actual?: FactValue;
  hosts: Set<string>;
  /** Members that left in this regrouping. */
  removed: string[];
  /** Membership or member drift changed in this regrouping. */
  touched: boolean;
  /** Made in this regrouping. */
  created: boolean;
}

/** Identity of a cause: path and values. */
export function causeKey(cause: { path: string; expected?: FactValue; actual?: FactValue }): string {
  const text = (value: FactValue | undefined) => (value === undefined ? '\u0001absent' : canonicalValue(value));
  return `${cause.path}\u0000${text(cause.expected)}\u0000${text(cause.actual)}`;
}

export interface RegroupInput {
  groups: Iterable<OutlierGroup>;
  /** Hosts to look at (changed ones, or all of them and every member). */
  look: Iterable<string>;
  driftOf(hostId: string): HostDrift | undefined;
  /** A member without drift that stays in its group (its cause path is tied now). */
  holds(hostId: string, group: OutlierGroup): boolean;
  /** A key for a new group of this cause (unique among open and pending events). */
  newKey(first: PathDifference): string;
}

/** Applies the hosts' current drift to the groups (mutated in place; new groups added). */
export function regroupOutliers(input: RegroupInput): Map<string, OutlierGroup> {
  const groups = new Map<string, OutlierGroup>();
  const memberOf = new Map<string, OutlierGroup>();
  const byCause = new Map<string, OutlierGroup>();
  for (const group of input.groups) {
    groups.set(group.key, group);
    byCause.set(causeKey(group), group);
    for (const host of group.hosts) memberOf.set(host, group);
  }
  for (const hostId of input.look) {
    const drift = input.driftOf(hostId);
    const group = memberOf.get(hostId);
    if (drift === undefined) {
      if (!group || input.holds(hostId, group)) continue;
      group.hosts.delete(hostId);
      group.removed.push(hostId);
      group.touched = true;
      memberOf.delete(hostId);
      continue;
    }
    if (group) {
      group.touched = true;
      continue;
    }
    const cause = causeKey(drift.first);
    let target = byCause.get(cause);
    if (!target) {
      target = {
        key: input.newKey(drift.first),
        path: drift.first.path,
        hosts: new Set(),
        removed: [],
        touched: true,
        created: true,
      };
      if (drift.first.expected !== undefined) target.expected = drift.first.expected;
      if (drift.first.actual !== undefined) target.actual = drift.first.actual;
      groups.set(target.key, target);
      byCause.set(cause, target);
    }
    target.hosts.add(hostId);
    target.touched = true;
    memberOf.set(hostId, target);
  }
  return groups;
}

/** A group's drift as one event shows it: the largest count of its hosts, the first paths over all of them. */
export function groupDrift(
  hosts: Iterable<string>,
  driftOf: (hostId: string) => HostDrift | undefined,
): HostDrift | undefined {
  let count = 0;
  const paths = new Set<string>();
  let first: HostDrift['first'] | undefined;
  for (const host of hosts) {
    const drift = driftOf(host);
    if (!drift) continue;
    count = Math.max(count, drift.count);
    for (const path of drift.paths) paths.add(path);
    if (!first || compareStrings(drift.first.path, first.path) < 0) first = drift.first;
  }
  if (!first) return undefined;
  return { count, paths: [...paths].sort(compareStrings).slice(0, OUTLIER_EVENT_PATHS), first };
}
