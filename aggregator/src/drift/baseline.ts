/**
 * Environment baselines: the dominant value of every compared path among an environment's live
 * hosts. Hosts are grouped by content-addressed category blobs, so the cost is (distinct blobs x
 * paths), not (hosts x paths): 10,000 hosts running a handful of images cost a handful of tallies;
 * kept up to date, a change costs the blobs that changed (baseline-tally.ts).
 */
import type { Classifier, FactMap, FactValue } from '@envparity/shared';
import { BaselineTally } from './baseline-tally.js';

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

export { baselineHosts } from './baseline-tally.js';

/** The baseline of these hosts, counted afresh (the drift engine keeps a `BaselineTally` per environment instead). */
export function computeBaseline(
  environment: string,
  allHosts: readonly HostSnapshot[],
  classify: Classifier,
): Baseline {
  return new BaselineTally(classify).update(allHosts).baseline(environment);
}
