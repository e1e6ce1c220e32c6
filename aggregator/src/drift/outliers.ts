/**
 * Outliers: hosts whose compared facts differ from their environment's baseline, path by path.
 * The per-category result depends only on the blob, so it is computed once per distinct blob.
 * Tied baseline paths have no dominant value and are not reported as outliers (the tie is).
 */
import {
  type Classifier,
  categoryOf,
  compareStrings,
  type FactMap,
  type FactValue,
  factValuesEqual,
  isCompared,
} from '@envparity/shared';
import type { Baseline, HostSnapshot } from './baseline.js';

export interface Outlier {
  hostId: string;
  path: string;
  /** Baseline value; absent when the baseline lacks the path (or it is tied). */
  expected?: FactValue;
  /** Host value; absent when the host lacks the path. */
  actual?: FactValue;
  class: 'behavior' | 'scale';
}

/** Baseline facts split per category, for blob-wise comparison. */
function baselineByCategory(baseline: Baseline): Map<string, FactMap> {
  const byCategory = new Map<string, FactMap>();
  for (const [path, value] of Object.entries(baseline.facts)) {
    const category = categoryOf(path);
    let map = byCategory.get(category);
    if (!map) {
      map = {};
      byCategory.set(category, map);
    }
    map[path] = value;
  }
  return byCategory;
}

type PathDifference = Omit<Outlier, 'hostId'>;

/** Differences of one category blob against the baseline's category. */
function diffCategory(
  facts: Readonly<FactMap>,
  expected: FactMap,
  tied: Set<string>,
  classify: Classifier,
): PathDifference[] {
  const out: PathDifference[] = [];
  for (const [path, value] of Object.entries(facts)) {
    const factClass = classify(path);
    if (!isCompared(factClass) || tied.has(path)) continue;
    if (Object.hasOwn(expected, path) && factValuesEqual(expected[path], value)) continue;
    const difference: PathDifference = { path, actual: value, class: factClass as 'behavior' | 'scale' };
    if (Object.hasOwn(expected, path)) difference.expected = expected[path] as FactValue;
    out.push(difference);
  }
  for (const [path, value] of Object.entries(expected)) {
    if (!Object.hasOwn(facts, path)) out.push({ path, expected: value, class: classify(path) as 'behavior' | 'scale' });
  }
  return out;
}

export interface OutlierOptions {
  /** Include scale differences (default: behavior only). */
  includeScale?: boolean;
}

/** Every host-path pair off the baseline, sorted by host then path. */
export function findOutliers(
  baseline: Baseline,
  hosts: readonly HostSnapshot[],
  classify: Classifier,
  { includeScale = false }: OutlierOptions = {},
): Outlier[] {
  const expectedByCategory = baselineByCategory(baseline);
  const tied = new Set(baseline.ties.map((tie) => tie.path));
  const cache = new Map<string, PathDifference[]>();
  const outliers: Outlier[] = [];
  for (const host of [...hosts].sort((a, b) => compareStrings(a.id, b.id))) {
    const seen = new Set<string>();
    const hostDiffs: PathDifference[] = [];
    for (const [category, blob] of host.categories) {
      seen.add(category);
      const key = `${category}\u0000${blob.hash}`;
      let diffs = cache.get(key);
      if (!diffs) {
        diffs = diffCategory(blob.facts, expectedByCategory.get(category) ?? {}, tied, classify);
        cache.set(key, diffs);
      }
      hostDiffs.push(...diffs);
    }
    // Categories the baseline has but this host lacks entirely.
    for (const [category, expected] of expectedByCategory) {
      if (seen.has(category)) continue;
      for (const [path, value] of Object.entries(expected))
        hostDiffs.push({ path, expected: value, class: classify(path) as 'behavior' | 'scale' });
    }
    hostDiffs.sort((a, b) => compareStrings(a.path, b.path));
    for (const diff of hostDiffs) {
      if (diff.class === 'scale' && !includeScale) continue;
      outliers.push({ hostId: host.id, ...diff });
    }
  }
  return outliers;
}
