/**
 * Outliers: hosts whose compared facts differ from their environment's baseline, path by path.
 * The per-category result depends only on the blob (and the baseline), so an `OutlierIndex` computes
 * it once per distinct blob and keeps it for as long as the baseline stays the same: a host's
 * outliers are the concatenation of its blobs' cached differences, and nothing is ever stored per
 * (host, path). Tied baseline paths have no dominant value and are not reported as outliers (the
 * tie is).
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
import type { Baseline, CategoryBlob, HostSnapshot } from './baseline.js';

export interface Outlier {
  hostId: string;
  path: string;
  /** Baseline value; absent when the baseline lacks the path (or it is tied). */
  expected?: FactValue;
  /** Host value; absent when the host lacks the path. */
  actual?: FactValue;
  class: 'behavior' | 'scale';
}

export type PathDifference = Omit<Outlier, 'hostId'>;

/** The differences of one category blob (or of a missing category), sorted by path; shared, read-only. */
export interface DiffList {
  /**
   * What the differences are of, within one baseline: the category and its blob's content hash (or
   * the category missing). Stable across passes, so judgements of a list can be cached by it.
   */
  readonly key: string;
  readonly diffs: readonly PathDifference[];
  /** How many of `diffs` are behavior differences. */
  readonly behavior: number;
}

const EMPTY_LIST: DiffList = Object.freeze({
  key: '',
  diffs: Object.freeze([]) as readonly PathDifference[],
  behavior: 0,
});

/** `DiffList.key` of a category blob, and of a category a host lacks (no blob hash starts with \u0001). */
const blobListKey = (category: string, hash: string) => `${category}\u0000${hash}`;
const missingListKey = (category: string) => `${category}\u0000\u0001missing`;

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

const byPath = (a: PathDifference, b: PathDifference) => compareStrings(a.path, b.path);

function toList(key: string, diffs: PathDifference[]): DiffList {
  if (diffs.length === 0) return EMPTY_LIST;
  diffs.sort(byPath);
  let behavior = 0;
  for (const diff of diffs) if (diff.class === 'behavior') behavior++;
  return { key, diffs, behavior };
}

/** Differences of one category blob against the baseline's category. */
function diffCategory(
  key: string,
  facts: Readonly<FactMap>,
  expected: FactMap,
  tied: Set<string>,
  classify: Classifier,
): DiffList {
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
  return toList(key, out);
}

/**
 * Per-blob differences against one baseline, computed on first use and cached (category -> blob
 * hash -> differences). Memory is bounded by the distinct blobs, not by hosts x paths; blobs whose
 * compared facts match the baseline share one empty list.
 */
export class OutlierIndex {
  readonly #expected: Map<string, FactMap>;
  readonly #tied: Set<string>;
  readonly #classify: Classifier;
  readonly #byBlob = new Map<string, Map<string, DiffList>>();
  readonly #missing = new Map<string, DiffList>();
  #size = 0;

  /** `version` identifies the baseline (facts and ties): an index is reused while it is unchanged. */
  constructor(
    readonly version: string,
    baseline: Baseline,
    classify: Classifier,
  ) {
    this.#expected = baselineByCategory(baseline);
    this.#tied = new Set(baseline.ties.map((tie) => tie.path));
    this.#classify = classify;
  }

  /** Cached blobs (a blob a host no longer uses stays until the index is replaced). */
  get size(): number {
    return this.#size;
  }

  /** Differences of one category blob. */
  blob(category: string, blob: CategoryBlob): DiffList {
    let byHash = this.#byBlob.get(category);
    if (!byHash) {
      byHash = new Map();
      this.#byBlob.set(category, byHash);
    }
    let list = byHash.get(blob.hash);
    if (!list) {
      const expected = this.#expected.get(category) ?? {};
      list = diffCategory(blobListKey(category, blob.hash), blob.facts, expected, this.#tied, this.#classify);
      byHash.set(blob.hash, list);
      this.#size++;
    }
    return list;
  }

  /** Differences of a category the baseline has and a host lacks entirely. */
  #missingCategory(category: string, expected: FactMap): DiffList {
    let list = this.#missing.get(category);
    if (!list) {
      const diffs: PathDifference[] = Object.entries(expected).map(([path, value]) => ({
        path,
        expected: value,
        class: this.#classify(path) as 'behavior' | 'scale',
      }));
      list = toList(missingListKey(category), diffs);
      this.#missing.set(category, list);
    }
    return list;
  }

  /** The (cached, shared) difference lists of a host: one per category with differences. */
  host(host: HostSnapshot): DiffList[] {
    const lists: DiffList[] = [];
    for (const [category, blob] of host.categories) {
      const list = this.blob(category, blob);
      if (list.diffs.length > 0) lists.push(list);
    }
    for (const [category, expected] of this.#expected) {
      if (host.categories.has(category)) continue;
      const list = this.#missingCategory(category, expected);
      if (list.diffs.length > 0) lists.push(list);
    }
    return lists;
  }

  /** How many outliers a host has (behavior only unless `includeScale`), without building them. */
  count(host: HostSnapshot, includeScale: boolean): number {
    let count = 0;
    for (const list of this.host(host)) count += includeScale ? list.diffs.length : list.behavior;
    return count;
  }

  /** A host's outliers, sorted by path. */
  outliers(host: HostSnapshot, includeScale: boolean): Outlier[] {
    const out: Outlier[] = [];
    for (const list of this.host(host)) {
      for (const diff of list.diffs) {
        if (diff.class === 'scale' && !includeScale) continue;
        out.push({ hostId: host.id, ...diff });
      }
    }
    return out.sort(byPath);
  }
}

export interface OutlierOptions {
  /** Include scale differences (default: behavior only). */
  includeScale?: boolean;
  /** Reuse the cached per-blob differences of this index (it must belong to `baseline`). */
  index?: OutlierIndex;
}

/** Hosts sorted by id. */
export function sortHosts(hosts: readonly HostSnapshot[]): HostSnapshot[] {
  return [...hosts].sort((a, b) => compareStrings(a.id, b.id));
}

/** Every host-path pair off the baseline, sorted by host then path. */
export function findOutliers(
  baseline: Baseline,
  hosts: readonly HostSnapshot[],
  classify: Classifier,
  { includeScale = false, index = new OutlierIndex('', baseline, classify) }: OutlierOptions = {},
): Outlier[] {
  const outliers: Outlier[] = [];
  for (const host of sortHosts(hosts)) outliers.push(...index.outliers(host, includeScale));
  return outliers;
}
