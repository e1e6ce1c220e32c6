/**
 * Which paths' histories can change a pair's promotion lists, known before any history is read:
 * promotion then reads the changes of those paths only (the `(environment, path, to_value)` index),
 * not every change an environment ever recorded. Exact, not a heuristic: a change of any other path
 * is dropped by `waitingChanges`/`outOfOrderCandidates` whatever its history says (why, below).
 */
import type { FactValue } from '@envparity/shared';
import type { EnvironmentState } from '../drift/environment-states.js';
import type { ValueHolders } from './promotion-holders.js';
import { holds } from './promotion-tracking.js';

/**
 * Waiting needs a value `from`'s baseline holds and `to`'s does not: only paths where the two
 * baselines differ (and `from` has one).
 */
export function waitingPaths(
  from: EnvironmentState,
  to: EnvironmentState,
  tracked: (path: string) => boolean,
): Set<string> {
  const paths = new Set<string>();
  const toFacts = to.baseline.facts;
  for (const [path, value] of Object.entries(from.baseline.facts)) {
    if (!holds(toFacts, path, value) && tracked(path)) paths.add(path);
  }
  return paths;
}

/**
 * Out of order needs a value some host of `to`'s baseline holds and `from`'s baseline does not:
 * `to`'s baseline values that `from` lacks, its tied paths (no baseline value, hosts split), and
 * the values its outlier hosts hold instead of the baseline's. The outliers come from the state's
 * cached per-blob differences, so this costs the distinct blobs of `to`, not its hosts x paths.
 */
export function outOfOrderPaths(
  from: EnvironmentState,
  to: EnvironmentState,
  toHolders: ValueHolders,
  tracked: (path: string) => boolean,
): Set<string> {
  const paths = new Set<string>();
  const fromFacts = from.baseline.facts;
  const consider = (path: string, value: FactValue) => {
    if (!paths.has(path) && !holds(fromFacts, path, value) && tracked(path)) paths.add(path);
  };
  for (const [path, value] of Object.entries(to.baseline.facts)) consider(path, value);
  for (const tie of to.baseline.ties) if (tracked(tie.path)) paths.add(tie.path);
  for (const [category, byHash] of toHolders.everyBlob()) {
    for (const { blob } of byHash.values()) {
      for (const difference of to.index.blob(category, blob).diffs) {
        if (difference.actual !== undefined) consider(difference.path, difference.actual);
      }
    }
  }
  return paths;
}
