/**
 * An environment's baseline kept up to date by differences: per path, how many hosts hold each
 * value, changed by the blobs whose host counts changed since the last update. One host changing a
 * package then costs the paths of its old and new category blobs, not (distinct blobs x paths) for
 * the whole environment: at 6,000 hosts that each hold their own `library` blob (a package changed
 * on every host), a fresh count is ~300 ms and an update a few.
 *
 * `computeBaseline` is a fresh tally; the drift engine keeps one per environment (environment-states.ts).
 * Both give the same baseline for the same hosts (property-tested in baseline-tally.test.ts).
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
import type { Baseline, BaselineTie, CategoryBlob, HostSnapshot } from './baseline.js';

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
 * are keyed by their canonical text. A value whose count drops to zero is forgotten.
 */
class ValueCounts {
  readonly #scalars = new Map<FactScalar, Candidate>();
  #arrays: Map<string, Candidate> | undefined;
  /** Hosts holding the path at all (the rest are "missing"). */
  present = 0;

  add(value: FactValue, hosts: number): void {
    this.present += hosts;
    if (Array.isArray(value)) {
      this.#arrays ??= new Map();
      const key = canonicalValue(value);
      ValueCounts.#count(this.#arrays, key, hosts, () => ({ key, value, hosts }));
      return;
    }
    ValueCounts.#count(this.#scalars, value, hosts, () => ({ value, hosts }));
  }

  static #count<K>(map: Map<K, Candidate>, key: K, hosts: number, create: () => Candidate): void {
    const entry = map.get(key);
    if (!entry) {
      map.set(key, create());
      return;
    }
    entry.hosts += hosts;
    if (entry.hosts === 0) map.delete(key);
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

type BlobCounts = Map<string, Map<string, { blob: CategoryBlob; count: number }>>;

/** How many hosts hold each distinct blob, per category (category -> blob hash -> blob and count). */
function countBlobs(hosts: readonly HostSnapshot[]): BlobCounts {
  const blobCounts: BlobCounts = new Map();
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

/** What one path contributes to the baseline: a dominant value with its support, a tie, or nothing. */
type PathOutcome = { value: FactValue; support: number } | { tie: BaselineTie } | undefined;

function outcomeOf(path: string, values: ValueCounts, total: number): PathOutcome {
  const candidates = values.candidates();
  if (values.present < total) candidates.push({ key: MISSING, hosts: total - values.present });
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
  if (!top) return undefined;
  if (second && second.hosts === top.hosts) {
    return {
      tie: {
        path,
        candidates: candidates
          .filter((c) => c.hosts === top.hosts)
          .map(({ value, hosts }) => (value === undefined ? { hosts } : { value, hosts })),
      },
    };
  }
  if (top.key === MISSING) return undefined;
  return { value: top.value as FactValue, support: top.hosts };
}

export class BaselineTally {
  readonly #classify: Classifier;
  #blobCounts: BlobCounts = new Map();
  /** Compared paths -> host counts per value (a path no host holds any more is dropped). */
  readonly #paths = new Map<string, ValueCounts>();
  readonly #outcomes = new Map<string, PathOutcome>();
  /** Paths whose counts changed since their outcome was computed. */
  readonly #dirty = new Set<string>();
  #total = 0;
  #stale = false;

  constructor(classify: Classifier) {
    this.#classify = classify;
  }

  /** Brings the counts to these hosts (the environment's hosts with facts; the counted ones are picked here). */
  update(allHosts: readonly HostSnapshot[]): this {
    const { hosts, stale } = baselineHosts(allHosts);
    this.#stale = stale;
    const next = countBlobs(hosts);
    for (const [category, byHash] of next) {
      const before = this.#blobCounts.get(category);
      for (const [hash, { blob, count }] of byHash) {
        const delta = count - (before?.get(hash)?.count ?? 0);
        if (delta !== 0) this.#apply(blob, delta);
      }
    }
    for (const [category, byHash] of this.#blobCounts) {
      const after = next.get(category);
      for (const [hash, { blob, count }] of byHash) if (!after?.has(hash)) this.#apply(blob, -count);
    }
    this.#blobCounts = next;
    if (hosts.length !== this.#total) {
      // The "missing" count of every path moves with the host count.
      this.#total = hosts.length;
      for (const path of this.#paths.keys()) this.#dirty.add(path);
    }
    return this;
  }

  #apply(blob: CategoryBlob, delta: number): void {
    for (const [path, value] of Object.entries(blob.facts)) {
      if (!isCompared(this.#classify(path))) continue;
      let values = this.#paths.get(path);
      if (!values) {
        values = new ValueCounts();
        this.#paths.set(path, values);
      }
      values.add(value, delta);
      this.#dirty.add(path);
    }
  }

  /** The baseline of the hosts of the last update. */
  baseline(environment: string): Baseline {
    for (const path of this.#dirty) {
      const values = this.#paths.get(path) as ValueCounts;
      if (values.present === 0) {
        this.#paths.delete(path);
        this.#outcomes.delete(path);
      } else {
        this.#outcomes.set(path, outcomeOf(path, values, this.#total));
      }
    }
    this.#dirty.clear();
    const paths = [...this.#outcomes.keys()].sort(compareStrings);
    const facts: FactMap = {};
    const support: Record<string, number> = {};
    const ties: BaselineTie[] = [];
    for (const path of paths) {
      const outcome = this.#outcomes.get(path);
      if (outcome === undefined) continue;
      if ('tie' in outcome) ties.push(outcome.tie);
      else {
        facts[path] = outcome.value;
        support[path] = outcome.support;
      }
    }
    return {
      environment,
      hosts: this.#total,
      stale: this.#stale,
      facts,
      ties,
      fingerprint: fingerprintFacts(facts, this.#classify).overall,
      support,
    };
  }
}
