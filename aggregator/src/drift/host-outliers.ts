/**
 * Outliers per host, as drift events see them: how many behavior paths of a host are off the
 * baseline and not justified by an exception, and the first few of them. Built from an
 * `OutlierIndex`'s cached per-blob differences; a judge judges each difference list once (hosts
 * sharing a blob share the judgement), so a host costs a lookup per category and nothing is kept
 * per (host, path).
 */
import {
  compareStrings,
  createExceptionMatcher,
  differenceStatus,
  type ExceptionRule,
  isExceptionActive,
} from '@envparity/shared';
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

/** A difference list as one judge sees it: how many of its differences drift, and the first ones. */
interface JudgedList {
  count: number;
  first: PathDifference[];
}

/**
 * Which differences of one environment are drift: behavior ones no active exception naming it
 * justifies. A judge lives for one pass (or one read), so its caches need no invalidation beyond
 * the baseline it judges: the exceptions and the time are fixed when it is made.
 */
export class DriftJudge {
  /** Identifies the applicable exceptions: equal keys, equal judgements. */
  readonly key: string;
  readonly #matcher: (path: string) => ExceptionRule | undefined;
  /** Per path: whether a difference there is drift (the class of a path never changes). */
  readonly #drifts = new Map<string, boolean>();
  /** Judged lists of the baseline `#baseline` (an `OutlierIndex.version`), by `DiffList.key`. */
  #judged = new Map<string, JudgedList>();
  #baseline: string | undefined;

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
    let drift = this.#drifts.get(diff.path);
    if (drift === undefined) {
      drift = differenceStatus({ factClass: diff.class, exception: this.#matcher(diff.path) }) === 'drift';
      this.#drifts.set(diff.path, drift);
    }
    return drift;
  }

  /** One of `index`'s lists, judged (once per list: list keys are only unique within one baseline). */
  judge(index: OutlierIndex, list: DiffList): JudgedList {
    if (index.version !== this.#baseline) {
      this.#judged = new Map();
      this.#baseline = index.version;
    }
    let result = this.#judged.get(list.key);
    if (!result) {
      let count = 0;
      const first: PathDifference[] = [];
      for (const diff of list.diffs) {
        if (!this.isDrift(diff)) continue;
        count++;
        if (first.length < OUTLIER_EVENT_PATHS) first.push(diff);
      }
      result = { count, first };
      this.#judged.set(list.key, result);
    }
    return result;
  }
}

/** The host's drift, or undefined when it is on its baseline (or every difference is justified or scale). */
export function hostDrift(index: OutlierIndex, host: HostSnapshot, judge: DriftJudge): HostDrift | undefined {
  let count = 0;
  const first: PathDifference[] = [];
  for (const list of index.host(host)) {
    const result = judge.judge(index, list);
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
  for (const list of index.host(host)) if (judge.judge(index, list).count > 0) return true;
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
