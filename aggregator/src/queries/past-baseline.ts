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
import { canonicalValue, categoryOf, compareStrings, type FactValue } from '@envparity/shared';
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

interface Run {
  value: FactValue;
  key: string;
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
  // Hosts per distinct current blob, and each blob stripped of the undone paths (once per blob).
  const held = new Map<string, { blob: CategoryBlob; hosts: number }>();
  for (const host of hosts) {
    const blob = host.current.get(category);
    if (!blob) continue;
    const entry = held.get(blob.hash);
    if (entry) entry.hosts++;
    else held.set(blob.hash, { blob, hosts: 1 });
  }
  if (held.size * paths.length > maxEntries) return undefined;
  const stripped = new Map<string, CategoryBlob | null>();
  for (const [hash, { blob }] of held) {
    const facts: Record<string, FactValue> = {};
    let size = 0;
    for (const [path, value] of Object.entries(blob.facts)) {
      if (undone.has(path)) continue;
      facts[path] = value;
      size++;
    }
    // Not a content hash: only a grouping key (equal keys, equal facts), which is all the tally needs.
    stripped.set(hash, size === 0 ? null : { hash: `${hash}\u0000-${category}`, facts });
  }
  // Host counts per value of each undone path, as of T.
  const counts = new Map<string, Map<string, Run>>();
  for (const path of paths) counts.set(path, new Map());
  const add = (path: string, value: FactValue, by: number, rank: number) => {
    const runs = counts.get(path) as Map<string, Run>;
    const key = canonicalValue(value);
    const run = runs.get(key);
    if (run) run.count += by;
    else runs.set(key, { value, key, count: by, rank });
  };
  // Largest blobs first: values are dealt blob by blob, so every path's runs end near the same
  // positions (the blobs' host counts, shifted by the few hosts that undid a change).
  const images = [...held.values()].sort((a, b) => b.hosts - a.hosts || compareStrings(a.blob.hash, b.blob.hash));
  images.forEach(({ blob, hosts: count }, rank) => {
    for (const path of paths) {
      const value = blob.facts[path];
      if (value !== undefined) add(path, value, count, rank);
    }
  });
  for (const host of hosts) {
    for (const [path, past] of host.patch) {
      if (!undone.has(path)) continue;
      const now = host.current.get(category)?.facts[path];
      if (now !== undefined) add(path, now, -1, images.length);
      if (past !== undefined) add(path, past, 1, images.length);
    }
  }
  // Each path's values, blob by blob, dealt to host positions 0, 1, 2...; where they change.
  const dealtRuns = new Map<string, Run[]>();
  const boundaries = new Set<number>([0]);
  for (const path of paths) {
    const runs = [...(counts.get(path) as Map<string, Run>).values()]
      .filter((run) => run.count > 0)
      .sort((a, b) => a.rank - b.rank || b.count - a.count || compareStrings(a.key, b.key));
    dealtRuns.set(path, runs);
    let position = 0;
    for (const run of runs) {
      position += run.count;
      boundaries.add(position);
    }
  }
  const starts = [...boundaries].filter((position) => position < hosts.length).sort((a, b) => a - b);
  if (starts.length * paths.length > maxEntries) return undefined;
  const dealt: (CategoryBlob | null)[] = new Array(hosts.length).fill(null);
  const cursors = new Map<string, { run: number; end: number }>();
  for (const path of paths) cursors.set(path, { run: 0, end: dealtRuns.get(path)?.[0]?.count ?? 0 });
  starts.forEach((start, segment) => {
    const facts: Record<string, FactValue> = {};
    let size = 0;
    for (const path of paths) {
      const runs = dealtRuns.get(path) as Run[];
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
    const blob = size === 0 ? null : { hash: `${category}\u0000past\u0000${segment}`, facts };
    const end = starts[segment + 1] ?? hosts.length;
    for (let position = start; position < end; position++) dealt[position] = blob;
  });
  return { stripped, dealt };
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
