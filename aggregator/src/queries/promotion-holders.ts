/**
 * Which hosts of an environment's baseline hold a value of a path. Hosts are grouped once by their
 * content-addressed category blobs; for a compared, untied path the answer comes from the state's
 * outlier index (per-blob differences from the baseline): the baseline's value is held by every host
 * except those that differ on the path, any other value by the hosts whose difference is that value.
 * So a question costs a lookup, not a walk of the category's blobs: at 6,000 hosts that each hold
 * their own `library` blob, hundreds of promotion candidates cost hundreds of lookups instead of
 * millions of reads. Other paths (tied, not compared) are answered by walking the blobs.
 */
import {
  type Classifier,
  canonicalValue,
  categoryOf,
  type FactValue,
  factValuesEqual,
  isCompared,
  ownValue,
} from '@envparity/shared';
import type { CategoryBlob, HostSnapshot } from '../drift/baseline.js';
import type { EnvironmentState } from '../drift/environment-states.js';
import { holds } from './promotion-tracking.js';

/** One distinct category blob of the baseline's hosts, and the hosts holding it. */
export interface BlobHosts {
  blob: CategoryBlob;
  hosts: HostSnapshot[];
}

/** What promotion tracking asks of an environment's hosts. */
export interface Holders {
  /** Hosts the baseline counts: the denominator of "2 of 9 hosts". */
  readonly total: number;
  /** The hosts holding `path` = `value`. */
  hosts(path: string, value: FactValue): HostSnapshot[];
  /** How many hosts hold `path` = `value`. */
  count(path: string, value: FactValue): number;
}

/** The hosts a state's baseline was computed from: the counted ones, else all of them (a stale baseline). */
export function hostsOfBaseline(state: EnvironmentState): readonly HostSnapshot[] {
  return state.baselineHosts.length > 0 ? state.baselineHosts : state.hosts;
}

const holdersByState = new WeakMap<EnvironmentState, ValueHolders>();

/** The holders of a state (an immutable snapshot), kept with it: requests between two changes share them. */
export function valueHoldersOf(state: EnvironmentState, classify: Classifier): ValueHolders {
  let holders = holdersByState.get(state);
  if (!holders) {
    holders = new ValueHolders(state, classify);
    holdersByState.set(state, holders);
  }
  return holders;
}

/** Hosts off the baseline on one path: all of them (a value or none), and by the value they hold. */
interface PathDeviations {
  hosts: Set<HostSnapshot>;
  byValue: Map<string, HostSnapshot[]>;
}

export class ValueHolders implements Holders {
  readonly total: number;
  readonly #state: EnvironmentState;
  readonly #classify: Classifier;
  readonly #hosts: readonly HostSnapshot[];
  readonly #tied: Set<string>;
  /** category -> blob hash -> its facts and hosts; built per category on first use. */
  readonly #byCategory = new Map<string, Map<string, BlobHosts>>();
  #allCategories = false;
  #deviations: Map<string, PathDeviations> | undefined;

  constructor(state: EnvironmentState, classify: Classifier) {
    this.#state = state;
    this.#classify = classify;
    this.#hosts = hostsOfBaseline(state);
    this.#tied = new Set(state.baseline.ties.map((tie) => tie.path));
    this.total = this.#hosts.length;
  }

  hosts(path: string, value: FactValue): HostSnapshot[] {
    if (!this.#indexed(path)) return this.#scan(path, value);
    const deviations = this.#pathDeviations(path);
    if (this.#isBaselineValue(path, value)) {
      return deviations ? this.#hosts.filter((host) => !deviations.hosts.has(host)) : [...this.#hosts];
    }
    return deviations?.byValue.get(canonicalValue(value)) ?? [];
  }

  count(path: string, value: FactValue): number {
    if (!this.#indexed(path)) return this.#scan(path, value).length;
    const deviations = this.#pathDeviations(path);
    if (this.#isBaselineValue(path, value)) return this.total - (deviations?.hosts.size ?? 0);
    return deviations?.byValue.get(canonicalValue(value))?.length ?? 0;
  }

  /** Every distinct blob of every category the hosts have (one walk of the hosts, then cached). */
  everyBlob(): Map<string, Map<string, BlobHosts>> {
    if (!this.#allCategories) {
      const built = new Set(this.#byCategory.keys());
      for (const host of this.#hosts) {
        for (const [category, blob] of host.categories) {
          if (built.has(category)) continue;
          this.#add(category, blob, host);
        }
      }
      this.#allCategories = true;
    }
    return this.#byCategory;
  }

  /** The outlier index knows the path: compared, and the baseline has a value or lacks it (not tied). */
  #indexed(path: string): boolean {
    return isCompared(this.#classify(path)) && !this.#tied.has(path);
  }

  #isBaselineValue(path: string, value: FactValue): boolean {
    return holds(this.#state.baseline.facts, path, value);
  }

  /** Built once from the index: every blob's differences, with the hosts holding the blob. */
  #pathDeviations(path: string): PathDeviations | undefined {
    if (!this.#deviations) {
      const deviations = new Map<string, PathDeviations>();
      for (const [category, byHash] of this.everyBlob()) {
        for (const { blob, hosts } of byHash.values()) {
          for (const difference of this.#state.index.blob(category, blob).diffs) {
            let entry = deviations.get(difference.path);
            if (!entry) {
              entry = { hosts: new Set(), byValue: new Map() };
              deviations.set(difference.path, entry);
            }
            for (const host of hosts) entry.hosts.add(host);
            if (difference.actual === undefined) continue;
            const key = canonicalValue(difference.actual);
            const holders = entry.byValue.get(key);
            if (holders) holders.push(...hosts);
            else entry.byValue.set(key, [...hosts]);
          }
        }
      }
      // A host lacking a whole category the baseline has differs on each of its paths.
      for (const [category, expected] of this.#expectedByCategory()) {
        for (const host of this.#hosts) {
          if (host.categories.has(category)) continue;
          for (const path of expected) {
            let entry = deviations.get(path);
            if (!entry) {
              entry = { hosts: new Set(), byValue: new Map() };
              deviations.set(path, entry);
            }
            entry.hosts.add(host);
          }
        }
      }
      this.#deviations = deviations;
    }
    return this.#deviations.get(path);
  }

  #expectedByCategory(): Map<string, string[]> {
    const byCategory = new Map<string, string[]>();
    for (const path of Object.keys(this.#state.baseline.facts)) {
      const category = categoryOf(path);
      const paths = byCategory.get(category);
      if (paths) paths.push(path);
      else byCategory.set(category, [path]);
    }
    return byCategory;
  }

  #scan(path: string, value: FactValue): HostSnapshot[] {
    const holders: HostSnapshot[] = [];
    for (const blob of this.#blobs(path)) {
      const held = ownValue(blob.blob.facts, path);
      if (held !== undefined && factValuesEqual(held, value)) holders.push(...blob.hosts);
    }
    return holders;
  }

  #blobs(path: string): Iterable<BlobHosts> {
    const category = categoryOf(path);
    let byHash = this.#byCategory.get(category);
    if (!byHash) {
      if (this.#allCategories) return [];
      for (const host of this.#hosts) {
        const blob = host.categories.get(category);
        if (blob) this.#add(category, blob, host);
      }
      byHash = this.#byCategory.get(category) ?? new Map();
      this.#byCategory.set(category, byHash);
    }
    return byHash.values();
  }

  #add(category: string, blob: CategoryBlob, host: HostSnapshot): void {
    let byHash = this.#byCategory.get(category);
    if (!byHash) {
      byHash = new Map();
      this.#byCategory.set(category, byHash);
    }
    const entry = byHash.get(blob.hash);
    if (entry) entry.hosts.push(host);
    else byHash.set(blob.hash, { blob, hosts: [host] });
  }
}
