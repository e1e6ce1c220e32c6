/**
 * The input of `computeBaseline` for an environment at a past instant, without one past blob per
 * host. A day of unattended upgrades changes a different package on every host: giving each host
 * its own past `library` blob would make the baseline tally hosts x packages (millions of entries at
 * 3,000 hosts) instead of distinct blobs x packages.
 *
 * The baseline of a path depends only on how many hosts hold each value of it (and how many lack
 * it), and `computeBaseline` tallies each category group on its own. So per category with undone
 * paths P: every host keeps its current blob minus P (one stripped copy per distinct blob), and
 * P goes to a group of its own whose blobs are not the hosts' but an arrangement with the very
 * same per-path value counts: for each path, its values are dealt to positions 0, 1, 2... in the
 * order of the current blobs holding them (largest first, values only a past state has last).
 * Positions where no path changes value share one blob, and since each path's runs end near the
 * current blobs' host counts (shifted by the few hosts that undid a change), the arrangement is a
 * few dozen blobs. The baseline (facts, ties, support, host count) is exactly the per-host one, with the tie
 * rules left to `computeBaseline`; when the arrangement would not be small, each host gets its
 * past blobs (PastBlobs) instead.
 */
import { canonicalValue, categoryOf, compareStrings, type FactScalar, type FactValue } from '@envparity/shared';
import type { CategoryBlob, HostSnapshot } from '../drift/baseline.js';
import { PastBlobs, type UndoPatch } from './state-at.js';

/** One host of the environment at T: its current categories and the undo patch of its changes after T. */
export interface PastHost {
  id: string;
  factsVersion: number;
  current: ReadonlyMap<string, CategoryBlob>;
  patch: UndoPatch;
}

/** Most (blob x path) entries the arrangement may build before the per-host way is used. */
export const MAX_ARRANGEMENT_ENTRIES = 2_000_000;

/** A value of a path with its host count at T. */
export interface Run {
  value: FactValue;
  count: number;
  /** The first (largest) current blob holding this value of the path; past-only values after them all. */
  rank: number;
}

/** Snapshots whose baseline is the baseline of the hosts as they were at T (every host counted). */
export function pastBaselineSnapshots(
  environment: string,
  hosts: readonly PastHost[],
  maxEntries = MAX_ARRANGEMENT_ENTRIES,
): HostSnapshot[] {
  // Undone paths per category.
  const undone = new Map<string, Set<string>>();
  for (const host of hosts) {
    for (const path of host.patch.keys()) {
      const category = categoryOf(path);
      let paths = undone.get(category);
      if (!paths) {
        paths = new Set();
        undone.set(category, paths);
      }
      paths.add(path);
    }
  }
  const arranged = new Map<string, { stripped: Map<string, CategoryBlob | null>; dealt: (CategoryBlob | null)[] }>();
  for (const [category, paths] of undone) {
    const arrangement = arrange(category, [...paths].sort(compareStrings), hosts, maxEntries);
    if (!arrangement) return perHost(environment, hosts);
    arranged.set(category, arrangement);
  }
  return hosts.map((host, index): HostSnapshot => {
    const categories = new Map<string, CategoryBlob>();
    for (const [category, blob] of host.current) {
      const arrangement = arranged.get(category);
      if (!arrangement) categories.set(category, blob);
      else {
        const stripped = arrangement.stripped.get(blob.hash);
        if (stripped) categories.set(category, stripped);
      }
    }
    for (const [category, { dealt }] of arranged) {
      const blob = dealt[index];
      if (blob) categories.set(`${category}\u0000past`, blob);
    }
    return { id: host.id, environment, online: true, counted: true, categories, factsVersion: host.factsVersion };
  });
}

/** The stripped current blobs and the dealt blobs of one category, or undefined when too large. */
function arrange(
  category: string,
  paths: readonly string[],
  hosts: readonly PastHost[],
  maxEntries: number,
): { stripped: Map<string, CategoryBlob | null>; dealt: (CategoryBlob | null)[] } | undefined {
  const undone = new Set(paths);
  const images = heldBlobs(category, hosts);
  if (images.length * paths.length > maxEntries) return undefined;
  // Each blob stripped of the undone paths (once per blob).
  const stripped = new Map<string, CategoryBlob | null>();
  for (const { blob } of images) {
    const facts: Record<string, FactValue> = {};
    let size = 0;
    for (const [path, value] of Object.entries(blob.facts)) {
      if (undone.has(path)) continue;
      facts[path] = value;
      size++;
    }
    // Not a content hash: only a grouping key (equal keys, equal facts), which is all the tally needs.
    stripped.set(blob.hash, size === 0 ? null : { hash: `${blob.hash}\u0000-${category}`, facts });
  }
  const runs = tallyAt(paths, images, hosts);
  const dealt = dealRuns(paths, runs, hosts.length, maxEntries, `${category}\u0000past`);
  return dealt ? { stripped, dealt } : undefined;
}

/** A category's distinct current blobs with their host counts, largest first (then by hash). */
export function heldBlobs(category: string, hosts: readonly PastHost[]): { blob: CategoryBlob; hosts: number }[] {
  const held = new Map<string, { blob: CategoryBlob; hosts: number }>();
  for (const host of hosts) {
    const blob = host.current.get(category);
    if (!blob) continue;
    const entry = held.get(blob.hash);
    if (entry) entry.hosts++;
    else held.set(blob.hash, { blob, hosts: 1 });
  }
  return [...held.values()].sort((a, b) => b.hosts - a.hosts || compareStrings(a.blob.hash, b.blob.hash));
}

/**
 * Host counts per value of a path, with the rank of the first blob holding each value. Scalars are
 * their own Map keys (as baseline.ts's ValueCounts: 1 and "1" apart, -0 with 0), arrays keyed by
 * their canonical text, so equal values here are equal values there.
 */
export class RunTally {
  readonly #scalars = new Map<FactScalar, Run>();
  #arrays: Map<string, Run> | undefined;

  add(value: FactValue, by: number, rank: number): void {
    let run: Run | undefined;
    if (Array.isArray(value)) {
      this.#arrays ??= new Map();
      const key = canonicalValue(value);
      run = this.#arrays.get(key);
      if (!run) this.#arrays.set(key, { value, count: by, rank });
    } else {
      run = this.#scalars.get(value);
      if (!run) this.#scalars.set(value, { value, count: by, rank });
    }
    if (run) run.count += by;
  }

  /** The count of one value (0 when never added). */
  count(value: FactValue): number {
    if (Array.isArray(value)) return this.#arrays?.get(canonicalValue(value))?.count ?? 0;
    return this.#scalars.get(value)?.count ?? 0;
  }

  /** Values with a positive count, by rank, then larger counts first. */
  runs(): Run[] {
    const all = [...this.#scalars.values()];
    if (this.#arrays) all.push(...this.#arrays.values());
    return all.filter((run) => run.count > 0).sort((a, b) => a.rank - b.rank || b.count - a.count);
  }
}

/**
 * Per path (all of one category), its values' host counts as of T, runs ordered for dealing: the
 * current blobs' values (`images`, largest first) corrected by every host's undo patch.
 */
export function tallyAt(
  paths: readonly string[],
  images: readonly { blob: CategoryBlob; hosts: number }[],
  hosts: readonly PastHost[],
): Map<string, Run[]> {
  const tallies = new Map<string, RunTally>();
  for (const path of paths) tallies.set(path, new RunTally());
  // Largest blobs first: values are dealt blob by blob, so every path's runs end near the same
  // positions (the blobs' host counts, shifted by the few hosts that undid a change).
  images.forEach(({ blob, hosts: count }, rank) => {
    const { facts } = blob;
    for (const path of paths) {
      const value = facts[path];
      if (value !== undefined) (tallies.get(path) as RunTally).add(value, count, rank);
    }
  });
  for (const host of hosts) {
    for (const [path, past] of host.patch) {
      const tally = tallies.get(path);
      if (!tally) continue;
      const now = host.current.get(categoryOf(path))?.facts[path];
      if (now !== undefined) tally.add(now, -1, images.length);
      if (past !== undefined) tally.add(past, 1, images.length);
    }
  }
  const out = new Map<string, Run[]>();
  for (const [path, tally] of tallies) out.set(path, tally.runs());
  return out;
}

/**
 * Each path's runs dealt to host positions 0, 1, 2... (a path is missing past the end of its
 * runs): one blob per segment where no path changes value, or undefined when the segments x paths
 * would exceed `maxEntries`. Blob hashes are `${prefix}\u0000${segment}` (grouping keys only).
 */
export function dealRuns(
  paths: readonly string[],
  runsOf: ReadonlyMap<string, readonly Run[]>,
  hostCount: number,
  maxEntries: number,
  prefix: string,
): (CategoryBlob | null)[] | undefined {
  const boundaries = new Set<number>([0]);
  for (const path of paths) {
    let position = 0;
    for (const run of runsOf.get(path) ?? []) {
      position += run.count;
      boundaries.add(position);
    }
  }
  const starts = [...boundaries].filter((position) => position < hostCount).sort((a, b) => a - b);
  if (starts.length * paths.length > maxEntries) return undefined;
  const dealt: (CategoryBlob | null)[] = new Array(hostCount).fill(null);
  const cursors = new Map<string, { run: number; end: number }>();
  for (const path of paths) cursors.set(path, { run: 0, end: runsOf.get(path)?.[0]?.count ?? 0 });
  starts.forEach((start, segment) => {
    const facts: Record<string, FactValue> = {};
    let size = 0;
    for (const path of paths) {
      const runs = runsOf.get(path) ?? [];
      const cursor = cursors.get(path) as { run: number; end: number };
      while (cursor.run < runs.length && start >= cursor.end) {
        cursor.run++;
        cursor.end += runs[cursor.run]?.count ?? 0;
      }
      const run = runs[cursor.run];
      if (run) {
        facts[path] = run.value;
        size++;
      }
    }
    const blob = size === 0 ? null : { hash: `${prefix}\u0000${segment}`, facts };
    const end = starts[segment + 1] ?? hostCount;
    for (let position = start; position < end; position++) dealt[position] = blob;
  });
  return dealt;
}

/** Each host with its own past blobs (shared between hosts that undid the same changes). */
function perHost(environment: string, hosts: readonly PastHost[]): HostSnapshot[] {
  const past = new PastBlobs();
  return hosts.map((host) => ({
    id: host.id,
    environment,
    online: true,
    counted: true,
    categories: past.categoriesAt(host.current, host.patch),
    factsVersion: host.factsVersion,
  }));
}
