/**
 * An environment's baseline at a past instant T from a baseline of the same hosts now, without
 * rebuilding every host's past state.
 *
 * A path's baseline depends only on how many hosts hold each of its values (and how many lack it)
 * among all the hosts. Between T and now the host set is the same (the caller proves it), so only
 * the paths some host changed after T (the undone paths) can differ, and for each of them the
 * counts at T are the counts now plus the undo patches' deltas: -1 for a host's current value, +1
 * for its value at T (absent on either side: the "missing" candidate).
 *
 * Per undone path, when a candidate whose count now is known from the current baseline (its
 * dominant value with its support, or a tied candidate with its host count) holds a strict
 * majority at T (more than half the hosts, hosts lacking the path counting as one candidate of
 * their own), it is dominant at T with no tie, whatever the other counts: a value becomes the fact
 * with that support, "missing" leaves the path out. The other undone paths ("hard" ones) get full
 * counts at T (distinct current blobs x those paths only, plus the patches) and are decided by
 * `computeBaseline` over an arrangement with those counts (past-baseline.ts), so the tie rules stay
 * in drift/baseline.ts. A day of unattended upgrades (a different package on every host) then costs
 * the patches and the paths, not distinct blobs x paths.
 */
import {
  type Classifier,
  categoryOf,
  compareStrings,
  type FactMap,
  type FactValue,
  fingerprintFacts,
  isCompared,
} from '@envparity/shared';
import {
  type Baseline,
  type BaselineTie,
  type CategoryBlob,
  computeBaseline,
  type HostSnapshot,
} from '../drift/baseline.js';
import {
  dealRuns,
  heldBlobs,
  MAX_ARRANGEMENT_ENTRIES,
  type PastHost,
  pastBaselineSnapshots,
  type Run,
  RunTally,
  tallyAt,
} from './past-baseline.js';

/** Per undone path: the deltas of its values (and of "missing") from now back to T. */
interface PathDelta {
  values: RunTally;
  missing: number;
}

/** The hosts as they are now, every one counted: the input of the current baseline over them. */
export function currentSnapshots(environment: string, hosts: readonly PastHost[]): HostSnapshot[] {
  return hosts.map((host) => ({
    id: host.id,
    environment,
    online: true,
    counted: true,
    categories: host.current,
    factsVersion: host.factsVersion,
  }));
}

/**
 * The baseline of `hosts` as they were at T (each host's current categories with its undo patch
 * applied, every host counted): exactly `computeBaseline` over their past states, ties included.
 * `current` must be `computeBaseline` over exactly these hosts' current categories (every host
 * counted); without it, it is computed here.
 */
export function pastBaseline(
  environment: string,
  hosts: readonly PastHost[],
  classify: Classifier,
  current?: Baseline,
  maxEntries = MAX_ARRANGEMENT_ENTRIES,
): Baseline {
  const now = current ?? computeBaseline(environment, currentSnapshots(environment, hosts), classify);
  const total = hosts.length;
  if (now.hosts !== total) throw new Error(`the current baseline counts ${now.hosts} hosts, not ${total}`);

  // Deltas per undone compared path.
  const deltas = new Map<string, PathDelta>();
  for (const host of hosts) {
    for (const [path, past] of host.patch) {
      let delta = deltas.get(path);
      if (!delta) {
        if (!isCompared(classify(path))) continue;
        delta = { values: new RunTally(), missing: 0 };
        deltas.set(path, delta);
      }
      const value = host.current.get(categoryOf(path))?.facts[path];
      if (value === undefined) delta.missing--;
      else delta.values.add(value, -1, 0);
      if (past === undefined) delta.missing++;
      else delta.values.add(past, 1, 0);
    }
  }
  if (deltas.size === 0) return { ...now, stale: false };

  const tiesNow = new Map<string, BaselineTie>();
  for (const tie of now.ties) tiesNow.set(tie.path, tie);
  const facts: FactMap = {};
  const support: Record<string, number> = {};
  const ties: BaselineTie[] = [];
  for (const [path, value] of Object.entries(now.facts)) {
    if (deltas.has(path)) continue;
    facts[path] = value;
    support[path] = now.support[path] as number;
  }
  for (const tie of now.ties) if (!deltas.has(tie.path)) ties.push(tie);

  // A candidate with a known count holding more than half of the hosts at T decides the path.
  const hard: string[] = [];
  for (const [path, delta] of deltas) {
    const value = now.facts[path];
    const known: { value?: FactValue; hosts: number }[] =
      value !== undefined ? [{ value, hosts: now.support[path] as number }] : (tiesNow.get(path)?.candidates ?? []);
    let decided = false;
    for (const candidate of known) {
      const atT =
        candidate.hosts + (candidate.value === undefined ? delta.missing : delta.values.count(candidate.value));
      if (2 * atT <= total) continue;
      if (candidate.value !== undefined) {
        facts[path] = candidate.value;
        support[path] = atT;
      }
      decided = true;
      break;
    }
    if (!decided) hard.push(path);
  }

  if (hard.length > 0) {
    const decided = hardPaths(environment, hard, hosts, classify, maxEntries);
    for (const path of hard) {
      const value = decided.facts[path];
      if (value === undefined) continue;
      facts[path] = value;
      support[path] = decided.support[path] as number;
    }
    const wanted = new Set(hard);
    for (const tie of decided.ties) if (wanted.has(tie.path)) ties.push(tie);
  }

  const ordered: FactMap = {};
  const orderedSupport: Record<string, number> = {};
  for (const path of Object.keys(facts).sort(compareStrings)) {
    ordered[path] = facts[path] as FactValue;
    orderedSupport[path] = support[path] as number;
  }
  ties.sort((a, b) => compareStrings(a.path, b.path));
  return {
    environment,
    hosts: total,
    stale: false,
    facts: ordered,
    ties,
    fingerprint: fingerprintFacts(ordered, classify).overall,
    support: orderedSupport,
  };
}

/**
 * `computeBaseline` over hosts holding, for the given paths only, the values counted at T (dealt
 * to positions: past-baseline.ts); its answer for other paths is meaningless. When that
 * arrangement would be too large, the full past arrangement of every host.
 */
function hardPaths(
  environment: string,
  paths: readonly string[],
  hosts: readonly PastHost[],
  classify: Classifier,
  maxEntries: number,
): Baseline {
  const byCategory = new Map<string, string[]>();
  for (const path of paths) {
    const category = categoryOf(path);
    let list = byCategory.get(category);
    if (!list) {
      list = [];
      byCategory.set(category, list);
    }
    list.push(path);
  }
  const runs = new Map<string, Run[]>();
  for (const [category, list] of byCategory) {
    for (const [path, ofPath] of tallyAt(list, heldBlobs(category, hosts), hosts)) runs.set(path, ofPath);
  }
  const sorted = [...paths].sort(compareStrings);
  const dealt = dealRuns(sorted, runs, hosts.length, maxEntries, 'past');
  if (!dealt) return computeBaseline(environment, pastBaselineSnapshots(environment, hosts, maxEntries), classify);
  const snapshots = hosts.map((host, index): HostSnapshot => {
    const blob = dealt[index];
    const categories = new Map<string, CategoryBlob>();
    if (blob) categories.set('past', blob);
    return { id: host.id, environment, online: true, counted: true, categories, factsVersion: host.factsVersion };
  });
  return computeBaseline(environment, snapshots, classify);
}
