/**
 * Per-environment cache of what the drift engine derives from the store: the environment's hosts,
 * its baseline and its outliers. Entries are dropped when the store reports a change of one of the
 * environment's hosts (facts, membership) or when a host connects or disconnects, and rebuilt on
 * the next read, so reads between two changes cost nothing and a change costs one environment.
 */
import type { Classifier } from '@envparity/shared';
import type { FactStore } from '../store/fact-store.js';
import { type Baseline, baselineHosts, computeBaseline, type HostSnapshot } from './baseline.js';
import type { HostSnapshots } from './host-snapshots.js';
import { findOutliers, type Outlier } from './outliers.js';

export interface EnvironmentState {
  readonly environment: string;
  /** Every host of the environment, facts or not. */
  readonly hostCount: number;
  /** Hosts with a live agent connection. */
  readonly online: number;
  /** Hosts that reported facts, sorted by id. */
  readonly hosts: readonly HostSnapshot[];
  /** Computed from the live hosts among `hosts`, or all of them (stale) when none is live. */
  readonly baseline: Baseline;
  /** The hosts the baseline was computed from: outliers are looked for among these. */
  readonly baselineHosts: readonly HostSnapshot[];
  /** Behavior and scale outliers of `baselineHosts` (computed on first use). */
  outliers(): readonly Outlier[];
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

  constructor({ store, snapshots, classify }: EnvironmentStatesOptions) {
    this.#store = store;
    this.#snapshots = snapshots;
    this.#classify = classify;
  }

  /** Forgets the cached state of one environment (a host's facts or presence changed). */
  invalidate(environment: string | null | undefined): void {
    if (environment !== null && environment !== undefined) this.#states.delete(environment);
  }

  /** Hosts joined or left environments: membership is rebuilt and every state recomputed. */
  invalidateMembership(): void {
    this.#members = undefined;
    this.#states.clear();
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
    const classify = this.#classify;
    const baseline = computeBaseline(environment, hosts, classify);
    const used = baselineHosts(hosts).hosts;
    let outliers: readonly Outlier[] | undefined;
    return {
      environment,
      hostCount: ids.length,
      online,
      hosts,
      baseline,
      baselineHosts: used,
      outliers() {
        outliers ??= findOutliers(baseline, used, classify, { includeScale: true });
        return outliers;
      },
    };
  }
}
