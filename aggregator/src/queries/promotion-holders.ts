/**
 * Which hosts of an environment's baseline hold a value of a path. Hosts are grouped once by their
 * content-addressed category blobs, so a question costs the distinct blobs of one category (a
 * handful at 10,000 hosts running a few images), never a walk of every host per path.
 */
import { categoryOf, type FactValue, factValuesEqual, ownValue } from '@envparity/shared';
import type { CategoryBlob, HostSnapshot } from '../drift/baseline.js';
import type { EnvironmentState } from '../drift/environment-states.js';

/** One distinct category blob of the baseline's hosts, and the hosts holding it. */
export interface BlobHosts {
  blob: CategoryBlob;
  hosts: HostSnapshot[];
}

/** The hosts a state's baseline was computed from: the counted ones, else all of them (a stale baseline). */
export function hostsOfBaseline(state: EnvironmentState): readonly HostSnapshot[] {
  return state.baselineHosts.length > 0 ? state.baselineHosts : state.hosts;
}

export class ValueHolders {
  /** Hosts the baseline counts: the denominator of "2 of 9 hosts". */
  readonly total: number;
  readonly #hosts: readonly HostSnapshot[];
  /** category -> blob hash -> its facts and hosts; built per category on first use. */
  readonly #byCategory = new Map<string, Map<string, BlobHosts>>();
  #allCategories = false;

  constructor(state: EnvironmentState) {
    this.#hosts = hostsOfBaseline(state);
    this.total = this.#hosts.length;
  }

  /** The hosts holding `path` = `value`. */
  hosts(path: string, value: FactValue): HostSnapshot[] {
    const holders: HostSnapshot[] = [];
    for (const blob of this.#blobs(path)) {
      const held = ownValue(blob.blob.facts, path);
      if (held !== undefined && factValuesEqual(held, value)) holders.push(...blob.hosts);
    }
    return holders;
  }

  /** How many hosts hold `path` = `value`. */
  count(path: string, value: FactValue): number {
    let count = 0;
    for (const blob of this.#blobs(path)) {
      const held = ownValue(blob.blob.facts, path);
      if (held !== undefined && factValuesEqual(held, value)) count += blob.hosts.length;
    }
    return count;
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
