/**
 * What the HTTP routes read of the drift engine: environment states and outliers (from the same
 * per-environment cache the passes use, judged with the stored exceptions at read time), open
 * event counts, and drift events as the API shows them (ISO times; an open outlier event with its
 * hosts' current drift, a lost host's event with its last contact). Reads never evaluate or write.
 */
import type { ExceptionRule } from '@envparity/shared';
import type { FactStore, StoredDriftEvent } from '../store/fact-store.js';
import type { DriftLedger } from './drift-ledger.js';
import type { EnvironmentState, EnvironmentStates } from './environment-states.js';
import { toDriftEventRecord } from './event-records.js';
import type { DriftEventRecord } from './events.js';
import { toExceptionRule } from './exception-rules.js';
import { DriftJudge, type HostDrift, hasDrift } from './host-outliers.js';
import { type JudgedOutlier, judgeOutliers } from './judge-outliers.js';
import { groupDrift } from './outlier-groups.js';
import type { Outlier } from './outliers.js';

export interface DriftReadModelOptions {
  store: Pick<FactStore, 'listExceptions' | 'listEnvironments' | 'getHost'>;
  states: EnvironmentStates;
  ledger: DriftLedger;
  now: () => number;
}

export interface OutlierReadOptions {
  /** Scale outliers too (default: behavior only). */
  includeScale?: boolean;
  /** Exceptions are judged as of this time (default: the engine's clock). */
  now?: Date;
}

export class DriftReadModel {
  readonly #store: DriftReadModelOptions['store'];
  readonly #states: EnvironmentStates;
  readonly #ledger: DriftLedger;
  readonly #now: () => number;

  constructor({ store, states, ledger, now }: DriftReadModelOptions) {
    this.#store = store;
    this.#states = states;
    this.#ledger = ledger;
    this.#now = now;
  }

  /** The exceptions in the form `compareFacts` takes (expired ones included: they stop matching by themselves). */
  exceptionRules(): ExceptionRule[] {
    return this.#store.listExceptions().map(toExceptionRule);
  }

  /** Every environment a host has ever declared. */
  environments(): string[] {
    return this.#store.listEnvironments();
  }

  state(environment: string): EnvironmentState {
    return this.#states.get(environment);
  }

  /** Outliers of an environment, judged with the exceptions (behavior only unless `includeScale`). */
  outliers(
    environment: string,
    { includeScale = false, now = new Date(this.#now()) }: OutlierReadOptions = {},
  ): JudgedOutlier[] {
    const outliers = this.#states.get(environment).outliers();
    const wanted = includeScale ? outliers : outliers.filter((outlier) => outlier.class === 'behavior');
    return judgeOutliers(wanted, environment, this.exceptionRules(), now);
  }

  /**
   * One page of an environment's outliers (hosts by id, then paths), judged, and how many there
   * are in all; built from the cached per-blob differences, so a page costs its hosts only.
   */
  outlierPage(
    environment: string,
    {
      includeScale = false,
      limit = Number.POSITIVE_INFINITY,
      now = new Date(this.#now()),
    }: OutlierReadOptions & { limit?: number } = {},
  ): { outliers: JudgedOutlier[]; total: number } {
    const state = this.#states.get(environment);
    const page: Outlier[] = [];
    let total = 0;
    for (const host of state.sortedBaselineHosts()) {
      const count = state.index.count(host, includeScale);
      if (count === 0) continue;
      if (page.length < limit) page.push(...state.index.outliers(host, includeScale).slice(0, limit - page.length));
      total += count;
    }
    return { outliers: judgeOutliers(page, environment, this.exceptionRules(), now), total };
  }

  /** Hosts with at least one drifting (behavior, unjustified) outlier. */
  outlierHostCount(environment: string, now = new Date(this.#now())): number {
    const state = this.#states.get(environment);
    const judge = new DriftJudge(environment, this.exceptionRules(), now);
    let count = 0;
    for (const host of state.baselineHosts) if (hasDrift(state.index, host, judge)) count++;
    return count;
  }

  /** Open drift events that concern an environment (either side of a pair). */
  openEventCount(environment: string): number {
    let count = 0;
    for (const event of this.#ledger.open.values()) {
      if (event.environment === environment || event.otherEnvironment === environment) count++;
    }
    return count;
  }

  /**
   * A stored event as the API shows it; an open outlier event gains its hosts' current `count` and
   * `paths`, a lost host's event its `lastSeen`.
   */
  eventRecord(event: StoredDriftEvent): DriftEventRecord {
    if (event.kind === 'lost') return this.record(event);
    if (event.kind !== 'outlier' || event.status !== 'open') return toDriftEventRecord(event);
    const open = this.#ledger.open.get(event.key);
    if (open?.id !== event.id) return toDriftEventRecord(event);
    const drift = groupDrift(open.hosts ?? [], (host) => this.#ledger.driftOf(event.environment, host));
    return toDriftEventRecord(open, drift);
  }

  /** An event as published and listed: ISO times, `drift` as `count`/`paths`, a lost host's `lastSeen`. */
  record(event: StoredDriftEvent, drift?: HostDrift): DriftEventRecord {
    const record = toDriftEventRecord(event, drift);
    if (event.kind === 'lost' && event.hostId !== undefined) {
      const lastSeen = this.#store.getHost(event.hostId)?.lastSeen;
      if (lastSeen !== null && lastSeen !== undefined) record.lastSeen = new Date(lastSeen).toISOString();
    }
    return record;
  }

  /** A host's drift as the last written pass saw it. */
  driftOf(environment: string, hostId: string): HostDrift | undefined {
    return this.#ledger.driftOf(environment, hostId);
  }
}
