/**
 * Per-environment cache of what the drift engine derives from the store: the environment's hosts,
 * its baseline and its outliers. Entries are dropped when the store reports a change of one of the
 * environment's hosts (facts, membership) or when a host connects or disconnects, and rebuilt on
 * the next read, so reads between two changes cost nothing and a change costs one environment.
 */
import { type Classifier, compareStrings, fingerprintMap } from '@envparity/shared';
import type { FactStore } from '../store/fact-store.js';
import type { Baseline, HostSnapshot } from './baseline.js';
import { BaselineTally } from './baseline-tally.js';
import type { HostSnapshots } from './host-snapshots.js';
import { findOutliers, type Outlier, OutlierIndex, sortHosts } from './outliers.js';

export interface EnvironmentState {
  readonly environment: string;
  /** Every host of the environment, facts or not. */
  readonly hostCount: number;
  /** Hosts with a live agent connection. */
  readonly online: number;
  /** Hosts that reported facts, sorted by id. */
  readonly hosts: readonly HostSnapshot[];
  /**
   * Computed from the counted hosts among `hosts` (online, or offline within the presence grace),
   * or all of them (stale) when none counts.
   */
  readonly baseline: Baseline;
  /** The counted hosts: outliers are looked for among these (a lost host is never an outlier). */
  readonly baselineHosts: readonly HostSnapshot[];
  /** Identifies the baseline (all its facts and ties): equal versions, equal outliers per blob. */
  readonly version: string;
  /** Per-blob differences against the baseline; shared by every state of the same baseline version. */
  readonly index: OutlierIndex;
  /** `baselineHosts` sorted by id (computed on first use). */
  sortedBaselineHosts(): readonly HostSnapshot[];
  /** Behavior and scale outliers of `baselineHosts`, every (host, path) pair: small environments and tests only. */
  outliers(): readonly Outlier[];
}

/** Identity of a baseline's outcome for outliers: its facts (every compared class) and tied paths. */
export function baselineVersion(baseline: Baseline): string {
  const tied = baseline.ties.map((tie) => tie.path).sort(compareStrings);
  return `${fingerprintMap(baseline.facts)}:${fingerprintMap({ tied })}`;
}

export interface EnvironmentStatesOptions {
  store: Pick<FactStore, 'listHosts' | 'getHost'>;
  snapshots: HostSnapshots;
  classify: Classifier;
}

export class EnvironmentStates {
  readonly #store: EnvironmentStatesOptions['store'];
  readonly #snapshots: HostSnapshots;
  readonly #classify: Classifier;
  /** environment -> host ids; rebuilt when membership changes (enroll, hello). */
  #members: Map<string, string[]> | undefined;
  readonly #states = new Map<string, EnvironmentState>();
  /** The last outlier index per environment: kept across recomputations while the baseline is unchanged. */
  readonly #indexes = new Map<string, OutlierIndex>();
  /** Per environment, the baseline's value counts: a recomputation applies the blobs that changed. */
  readonly #tallies = new Map<string, BaselineTally>();

  constructor({ store, snapshots, classify }: EnvironmentStatesOptions) {
    this.#store = store;
    this.#snapshots = snapshots;
    this.#classify = classify;
  }

  /** Forgets the cached state of one environment (a host's facts or presence changed). */
  invalidate(environment: string | null | undefined): void {
    if (environment !== null && environment !== undefined) this.#states.delete(environment);
  }

  /**
   * Hosts joined or left these environments: membership is rebuilt (one walk of the host list) and
   * only their states are recomputed. An enrollment storm then costs the environments it reaches,
   * not every environment's baseline at every pass.
   */
  invalidateMembership(...environments: (string | null | undefined)[]): void {
    this.#members = undefined;
    for (const environment of environments) this.invalidate(environment);
  }

  /**
   * A view for one drift pass: each environment's state is computed at most once and then kept for
   * the rest of the pass, whatever changes meanwhile (changes during a pass mark it dirty again, so
   * the next pass sees them). Without it a time-sliced pass recomputed a baseline every time a
   * report landed while it yielded, up to once per step of the pass.
   */
  pinned(): (environment: string) => EnvironmentState {
    const seen = new Map<string, EnvironmentState>();
    return (environment) => {
      let state = seen.get(environment);
      if (!state) {
        state = this.get(environment);
        seen.set(environment, state);
      }
      return state;
    };
  }

  /** Environments that currently have at least one host. */
  environmentsWithHosts(): string[] {
    return [...this.#membership().keys()];
  }

  /** The (cached) state of an environment; an environment without hosts has an empty one. */
  get(environment: string): EnvironmentState {
    let state = this.#states.get(environment);
    if (!state) {
      state = this.#compute(environment);
      this.#states.set(environment, state);
    }
    return state;
  }

  #membership(): Map<string, string[]> {
    if (!this.#members) {
      const members = new Map<string, string[]>();
      for (const host of this.#store.listHosts()) {
        if (host.environment === null) continue;
        let ids = members.get(host.environment);
        if (!ids) {
          ids = [];
          members.set(host.environment, ids);
        }
        ids.push(host.id);
      }
      this.#members = members;
    }
    return this.#members;
  }

  #tally(environment: string): BaselineTally {
    let tally = this.#tallies.get(environment);
    if (!tally) {
      tally = new BaselineTally(this.#classify);
      this.#tallies.set(environment, tally);
    }
    return tally;
  }

  #compute(environment: string): EnvironmentState {
    const ids = this.#membership().get(environment) ?? [];
    const hosts: HostSnapshot[] = [];
    let online = 0;
    for (const id of ids) {
      const view = this.#store.getHost(id);
      if (!view) continue;
      const snapshot = this.#snapshots.snapshot(view);
      if (snapshot.online) online++;
      // A host that has not reported yet has no say in the baseline (it would count as "missing" everywhere).
      if (snapshot.categories.size > 0) hosts.push(snapshot);
    }
    const state = environmentState({
      environment,
      hosts,
      classify: this.#classify,
      hostCount: ids.length,
      online,
      previousIndex: this.#indexes.get(environment),
      tally: this.#tally(environment),
    });
    this.#indexes.set(environment, state.index);
    return state;
  }
}

export interface EnvironmentStateInput {
  environment: string;
  /** The hosts that reported facts. */
  hosts: readonly HostSnapshot[];
  classify: Classifier;
  /** Every host of the environment, facts or not (default: `hosts`). */
  hostCount?: number;
  /** Hosts with a live connection (default: the online ones among `hosts`). */
  online?: number;
  /** The environment's last index: reused while the baseline is the same and it holds few unused blobs. */
  previousIndex?: OutlierIndex | undefined;
  /** The environment's kept value counts, brought to `hosts` (default: counted afresh). */
  tally?: BaselineTally;
}

/** An environment's state from its hosts' snapshots (EnvironmentStates reads them from the store; tests make them). */
export function environmentState(input: EnvironmentStateInput): EnvironmentState {
  const { environment, hosts, classify, previousIndex } = input;
  const baseline = (input.tally ?? new BaselineTally(classify)).update(hosts).baseline(environment);
  const used = hosts.filter((host) => host.counted ?? host.online);
  const version = baselineVersion(baseline);
  let blobs = 0;
  for (const host of hosts) blobs += host.categories.size;
  // A new baseline, or too many cached blobs no host uses any more (hosts changed facts): start over.
  const index =
    previousIndex?.version === version && previousIndex.size <= 2 * blobs + 1024
      ? previousIndex
      : new OutlierIndex(version, baseline, classify);
  let sorted: readonly HostSnapshot[] | undefined;
  let outliers: readonly Outlier[] | undefined;
  return {
    environment,
    hostCount: input.hostCount ?? hosts.length,
    online: input.online ?? hosts.filter((host) => host.online).length,
    hosts,
    baseline,
    baselineHosts: used,
    version,
    index,
    sortedBaselineHosts() {
      sorted ??= sortHosts(used);
      return sorted;
    },
    outliers() {
      outliers ??= findOutliers(baseline, used, classify, { includeScale: true, index });
      return outliers;
    },
  };
}
