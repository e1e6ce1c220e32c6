/**
 * Environment baselines: the dominant value of every compared path among an environment's live
 * hosts. Hosts are grouped by content-addressed category blobs, so the cost is (distinct blobs x
 * paths), not (hosts x paths): 10,000 hosts running a handful of images cost a handful of tallies.
 */
import {
  type Classifier,
  canonicalValue,
  compareStrings,
  type FactMap,
  type FactScalar,
  type FactValue,
  fingerprintFacts,
  isCompared,
} from '@envparity/shared';

/** One stored category of a host: its content hash and (shared, read-only) facts. */
export interface CategoryBlob {
  readonly hash: string;
  readonly facts: Readonly<FactMap>;
}

/** What the drift engine needs to know of a host. */
export interface HostSnapshot {
  readonly id: string;
  readonly environment: string | undefined;
  readonly online: boolean;
  /**
   * Counts in the baseline: online, or offline within the presence grace (last known facts).
   * Absent: the same as `online`.
   */
  readonly counted?: boolean;
  readonly categories: ReadonlyMap<string, CategoryBlob>;
  /** The store's `HostView.factsVersion`: equal versions of one host mean equal categories. */
  readonly factsVersion: number;
}

/** A path where two or more values (or "missing") are equally dominant. */
export interface BaselineTie {
  path: string;
  /** Each candidate with its host count; `value` absent = the path is missing on those hosts. */
  candidates: { value?: FactValue; hosts: number }[];
}

export interface Baseline {
  environment: string;
  /** Hosts the baseline was computed from. */
  hosts: number;
  /** True when no host of the baseline is live: it is made of last known facts. */
  stale: boolean;
  /** Dominant value of every compared (behavior and scale) path; tied paths are left out. */
  facts: FactMap;
  ties: BaselineTie[];
  fingerprint: string;
  /** Per path, how many hosts hold the dominant value (for "3 of 4 hosts"). */
  support: Record<string, number>;
}

const MISSING = '\u0000missing';

/** A value of a path with its host count; `key` is its canonical text, computed only to order candidates. */
interface Candidate {
  key?: string;
  value?: FactValue;
  hosts: number;
}

/**
 * Host counts per distinct value of one path. Scalars are their own Map keys (a Map tells 1 from
 * "1" and takes -0 for 0, as the canonical text does), so the common case encodes nothing; arrays
 * are keyed by their canonical text.
 */
class ValueCounts {
  readonly #scalars = new Map<FactScalar, Candidate>();
  #arrays: Map<string, Candidate> | undefined;

  add(value: FactValue, hosts: number): void {
    if (Array.isArray(value)) {
      this.#arrays ??= new Map();
      const key = canonicalValue(value);
      const entry = this.#arrays.get(key);
      if (entry) entry.hosts += hosts;
      else this.#arrays.set(key, { key, value, hosts });
      return;
    }
    const entry = this.#scalars.get(value);
    if (entry) entry.hosts += hosts;
    else this.#scalars.set(value, { value, hosts });
  }

  candidates(): Candidate[] {
    const all = [...this.#scalars.values()];
    if (this.#arrays) all.push(...this.#arrays.values());
    return all;
  }
}

/**
 * Picks the hosts a baseline is computed from: the counted ones (online, or offline within the
 * presence grace), else all of them. `stale`: no host of the baseline is online (last known facts).
 */
export function baselineHosts(hosts: readonly HostSnapshot[]): { hosts: readonly HostSnapshot[]; stale: boolean } {
  const counted = hosts.filter((host) => host.counted ?? host.online);
  const used = counted.length > 0 ? counted : hosts;
  return { hosts: used, stale: used.length > 0 && !used.some((host) => host.online) };
}

/** How many hosts hold each distinct blob, per category (category -> blob hash -> blob and count). */
function countBlobs(hosts: readonly HostSnapshot[]): Map<string, Map<string, { blob: CategoryBlob; count: number }>> {
  const blobCounts = new Map<string, Map<string, { blob: CategoryBlob; count: number }>>();
  for (const host of hosts) {
    for (const [category, blob] of host.categories) {
      let byHash = blobCounts.get(category);
      if (!byHash) {
        byHash = new Map();
        blobCounts.set(category, byHash);
      }
      const entry = byHash.get(blob.hash);
      if (entry) entry.count++;
      else byHash.set(blob.hash, { blob, count: 1 });
    }
  }
  return blobCounts;
}

export function computeBaseline(
  environment: string,
  allHosts: readonly HostSnapshot[],
  classify: Classifier,
): Baseline {
  const { hosts, stale } = baselineHosts(allHosts);
  const total = hosts.length;
  const blobCounts = countBlobs(hosts);
  const facts: FactMap = {};
  const support: Record<string, number> = {};
  const ties: BaselineTie[] = [];
  for (const byHash of blobCounts.values()) {
    const tally = new Map<string, ValueCounts>();
    for (const { blob, count } of byHash.values()) {
      for (const [path, value] of Object.entries(blob.facts)) {
        if (!isCompared(classify(path))) continue;
        let values = tally.get(path);
        if (!values) {
          values = new ValueCounts();
          tally.set(path, values);
        }
        values.add(value, count);
      }
    }
    for (const [path, values] of tally) {
      const candidates: Candidate[] = values.candidates();
      let present = 0;
      for (const entry of candidates) present += entry.hosts;
      if (present < total) candidates.push({ key: MISSING, hosts: total - present });
      // Canonical texts order the candidates only where a path has more than one value.
      if (candidates.length > 1) {
        for (const candidate of candidates) candidate.key ??= canonicalValue(candidate.value as FactValue);
        candidates.sort(
          (a, b) =>
            b.hosts - a.hosts ||
            Number(a.key === MISSING) - Number(b.key === MISSING) ||
            compareStrings(a.key as string, b.key as string),
        );
      }
      const [top, second] = candidates;
      if (!top) continue;
      if (second && second.hosts === top.hosts) {
        ties.push({
          path,
          candidates: candidates
            .filter((c) => c.hosts === top.hosts)
            .map(({ value, hosts }) => (value === undefined ? { hosts } : { value, hosts })),
        });
        continue;
      }
      if (top.key === MISSING) continue;
      facts[path] = top.value as FactValue;
      support[path] = top.hosts;
    }
  }
  const ordered: FactMap = {};
  for (const path of Object.keys(facts).sort(compareStrings)) ordered[path] = facts[path] as FactValue;
  ties.sort((a, b) => compareStrings(a.path, b.path));
  return {
    environment,
    hosts: total,
    stale,
    facts: ordered,
    ties,
    fingerprint: fingerprintFacts(ordered, classify).overall,
    support,
  };
}
