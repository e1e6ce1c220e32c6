/**
 * Outliers per host, as drift events see them: how many behavior paths of a host are off the
 * baseline and not justified by an exception, and the first few of them. Built from an
 * `OutlierIndex`'s cached per-blob differences, with the judgement cached per difference list and
 * exception set, so a host costs a lookup per category and nothing is kept per (host, path).
 */
import { compareStrings, createExceptionMatcher, type ExceptionRule, isExceptionActive } from '@envparity/shared';
import type { HostSnapshot } from './baseline.js';
import type { DiffList, OutlierIndex, PathDifference } from './outliers.js';

/** How many paths an outlier event lists (the first ones, by path). */
export const OUTLIER_EVENT_PATHS = 10;

/** A host off its baseline: drifting paths (behavior, unjustified), the first ones and the very first. */
export interface HostDrift {
  count: number;
  /** The first `OUTLIER_EVENT_PATHS` drifting paths, sorted. */
  paths: string[];
  first: PathDifference;
}

interface JudgedList {
  key: string;
  count: number;
  first: PathDifference[];
}

const judged = new WeakMap<DiffList, JudgedList>();

/** Which differences of one environment are drift: behavior ones no active exception naming it justifies. */
export class DriftJudge {
  /** Identifies the applicable exceptions: equal keys, equal judgements. */
  readonly key: string;
  readonly #matcher: (path: string) => ExceptionRule | undefined;
  readonly #memo = new Map<string, boolean>();

  constructor(environment: string, rules: readonly ExceptionRule[], now: Date) {
    const applicable = rules.filter((rule) => rule.environments.includes(environment) && isExceptionActive(rule, now));
    this.key = JSON.stringify([environment, ...applicable.map((rule) => [rule.id, rule.path])]);
    this.#matcher = createExceptionMatcher(applicable, environment, environment, now);
  }

  /** The active exception that justifies a difference of `path` inside the environment, if any. */
  exceptionFor(path: string): ExceptionRule | undefined {
    return this.#matcher(path);
  }

  isDrift(diff: PathDifference): boolean {
    if (diff.class !== 'behavior') return false;
    let justified = this.#memo.get(diff.path);
    if (justified === undefined) {
      justified = this.#matcher(diff.path) !== undefined;
      this.#memo.set(diff.path, justified);
    }
    return !justified;
  }

  list(list: DiffList): JudgedList {
    let result = judged.get(list);
    if (result?.key !== this.key) {
      let count = 0;
      const first: PathDifference[] = [];
      for (const diff of list.diffs) {
        if (!this.isDrift(diff)) continue;
        count++;
        if (first.length < OUTLIER_EVENT_PATHS) first.push(diff);
      }
      result = { key: this.key, count, first };
      judged.set(list, result);
    }
    return result;
  }
}

/** The host's drift, or undefined when it is on its baseline (or every difference is justified or scale). */
export function hostDrift(index: OutlierIndex, host: HostSnapshot, judge: DriftJudge): HostDrift | undefined {
  let count = 0;
  const first: PathDifference[] = [];
  for (const list of index.host(host)) {
    const result = judge.list(list);
    count += result.count;
    first.push(...result.first);
  }
  if (count === 0) return undefined;
  first.sort((a, b) => compareStrings(a.path, b.path));
  const head = first.slice(0, OUTLIER_EVENT_PATHS);
  return { count, paths: head.map((diff) => diff.path), first: head[0] as PathDifference };
}

/** Whether the host has at least one drifting path. */
export function hasDrift(index: OutlierIndex, host: HostSnapshot, judge: DriftJudge): boolean {
  for (const list of index.host(host)) if (judge.list(list).count > 0) return true;
  return false;
}

/** The current values of one path of the host, if it drifts. */
export function findDrift(
  index: OutlierIndex,
  host: HostSnapshot,
  judge: DriftJudge,
  path: string,
): PathDifference | undefined {
  for (const list of index.host(host)) {
    for (const diff of list.diffs) if (diff.path === path) return judge.isDrift(diff) ? diff : undefined;
  }
  return undefined;
}

/** The host's difference on one path (drifting or not: justified and scale ones too). */
export function findDifference(index: OutlierIndex, host: HostSnapshot, path: string): PathDifference | undefined {
  for (const list of index.host(host)) {
    for (const diff of list.diffs) if (diff.path === path) return diff;
  }
  return undefined;
}
