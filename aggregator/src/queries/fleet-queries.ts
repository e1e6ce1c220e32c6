/**
 * The one read side of the aggregator: environments, baselines, outliers, compare, hosts and their
 * facts, changes, distributions, drift events and exceptions. The HTTP routes (and the dashboard
 * and the CLI after them) read only through it, so none of them touches category blobs or the
 * drift engine's internals, and reads that must first publish exception expiries do so here.
 * Answers are domain values (times in ms); turning them into JSON is the routes' job.
 */
import {
  type Classifier,
  type ClassRule,
  compareFacts,
  type DifferenceStatus,
  type ExceptionRule,
  type FactMap,
  type SecretPolicyRule,
} from '@envparity/shared';
import type { DriftEngine } from '../drift/drift-engine.js';
import { downstreamOf, upstreamOf } from '../drift/environment-pairs.js';
import type { EnvironmentState } from '../drift/environment-states.js';
import type { DriftEventRecord } from '../drift/events.js';
import type { Presence } from '../drift/host-snapshots.js';
import { type JudgedOutlier, judgeOutliers } from '../drift/judge-outliers.js';
import type { PathDifference } from '../drift/outliers.js';
import type { HostPresence } from '../drift/presence-tracker.js';
import { NotFoundError } from '../errors.js';
import type { DriftEventQuery, ExceptionRecord, FactChange, FactStore, HostView } from '../store/fact-store.js';
import { type CompareSide, type Comparison, resolveCompareSide, type SideRef } from './compare-sides.js';
import {
  createEnvironmentCatalog,
  type EnvironmentCatalog,
  knownEnvironmentOr404,
  sortEnvironments,
} from './environment-catalog.js';
import { type FactDistribution, factDistribution, hostFact, valueMatches } from './fact-distribution.js';
import { byCauseRank, causeHosts, type OutlierCause, outlierCauses } from './outlier-causes.js';

/** What the queries read of the drift engine: its read model, never its passes. */
export type DriftReads = Pick<
  DriftEngine,
  | 'state'
  | 'environments'
  | 'promotion'
  | 'classify'
  | 'exceptionRules'
  | 'outlierPage'
  | 'outlierHostCount'
  | 'openEventCount'
  | 'eventRecord'
  | 'checkExpiredExceptions'
>;

export interface FleetQueriesDeps {
  store: FactStore;
  drift: DriftReads;
  /** `presenceOf` (the drift engine's presence phases) adds a phase to each host. */
  presence: Presence & { presenceOf?(hostId: string): HostPresence };
  /** Environments the config declares ahead of any host (`promotion`, then `environments:`). */
  declaredEnvironments?: readonly string[];
  /** Config `classes`, published with baselines for `verify`. */
  classes?: readonly ClassRule[];
  /** Config `secretPolicy`, used by compare. */
  secretPolicy?: readonly SecretPolicyRule[];
  now?: () => number;
}

export interface EnvironmentSummary {
  name: string;
  state: EnvironmentState;
  outlierHosts: number;
  openDrift: number;
  upstream: string | null;
  downstream: string | null;
}

export interface HostFilter {
  environment?: string;
  /** Only hosts holding this path ... */
  fact?: string;
  /** ... with this value (strings as is, other values as JSON). */
  value?: string;
  /** Only hosts carrying every one of these labels (key = value). */
  labels?: Readonly<Record<string, string>>;
  /** Only hosts whose agent is connected (true) or not (false). */
  online?: boolean;
}

/** Where the next page of a newest-first timeline starts: changes at or before `at`, minus the `skip` newest at `at`. */
export interface ChangeCursor {
  at: number;
  skip: number;
}

/** One page of a host's changes, newest first, and the cursor of the next (older) page. */
export interface RecentChanges {
  items: FactChange[];
  next: ChangeCursor | null;
}

/** The largest `skip` a timeline cursor may carry (changes of one host at one millisecond). */
export const MAX_CHANGE_CURSOR_SKIP = 1_000_000;

/** A list cut at `limit`, saying whether there was more. */
export interface Page<T> {
  items: T[];
  truncated: boolean;
}

export class FleetQueries {
  readonly catalog: EnvironmentCatalog;
  readonly classes: readonly ClassRule[];
  readonly secretPolicy: readonly SecretPolicyRule[];
  private readonly store: FactStore;
  private readonly drift: DriftReads;
  private readonly presence: FleetQueriesDeps['presence'];
  private readonly now: () => number;

  constructor({
    store,
    drift,
    presence,
    declaredEnvironments = [],
    classes = [],
    secretPolicy = [],
    now = Date.now,
  }: FleetQueriesDeps) {
    this.store = store;
    this.drift = drift;
    this.presence = presence;
    this.catalog = createEnvironmentCatalog(drift, declaredEnvironments);
    this.classes = classes;
    this.secretPolicy = secretPolicy;
    this.now = now;
  }

  get classify(): Classifier {
    return this.drift.classify;
  }

  /** The promotion order (config `promotion`), upstream first. */
  get promotion(): readonly string[] {
    return this.drift.promotion;
  }

  // --- environments ----------------------------------------------------------------------------

  /** The name of a known environment, else NotFoundError naming the known ones. */
  knownEnvironment(name: string): string {
    return knownEnvironmentOr404(this.catalog, name);
  }

  /** Every known environment, promotion order first, with its state and counts. */
  async environments(): Promise<EnvironmentSummary[]> {
    await this.drift.checkExpiredExceptions();
    const { promotion } = this.drift;
    return sortEnvironments(this.catalog.environments(), promotion).map((name) => ({
      name,
      state: this.drift.state(name),
      outlierHosts: this.drift.outlierHostCount(name),
      openDrift: this.drift.openEventCount(name),
      upstream: upstreamOf(name, promotion) ?? null,
      downstream: downstreamOf(name, promotion) ?? null,
    }));
  }

  /** A known environment's state: its hosts and baseline. */
  environment(name: string): EnvironmentState {
    return this.drift.state(this.knownEnvironment(name));
  }

  /** One page of a known environment's outliers, judged with the exceptions. */
  async outliers(
    name: string,
    { includeScale, limit }: { includeScale: boolean; limit: number },
  ): Promise<{ state: EnvironmentState; outliers: JudgedOutlier[]; total: number }> {
    const environment = this.knownEnvironment(name);
    await this.drift.checkExpiredExceptions();
    return { state: this.drift.state(environment), ...this.drift.outlierPage(environment, { includeScale, limit }) };
  }

  // --- compare ---------------------------------------------------------------------------------

  /** Two sides (environment baselines or hosts), path by path, judged as `verify` judges them. */
  async compare(from: SideRef, to: SideRef, categories?: readonly string[]): Promise<Comparison> {
    return this.compareSides(this.compareSide(from), this.compareSide(to), categories);
  }

  /** A side as it is now: an environment's baseline or a host's facts (NotFoundError when unknown). */
  compareSide(ref: SideRef): CompareSide {
    return resolveCompareSide(ref, {
      hostOf: (id) => this.store.getHost(id),
      hostFacts: (id) => this.store.getHostFacts(id) ?? {},
      environment: (name) => this.environment(name),
    });
  }

  /**
   * Two resolved sides (live, or rebuilt at a past instant by the history queries), judged as
   * `verify` judges them: today's exceptions and secret policy, after publishing expiries.
   */
  async compareSides(fromSide: CompareSide, toSide: CompareSide, categories?: readonly string[]): Promise<Comparison> {
    await this.drift.checkExpiredExceptions();
    const comparison = compareFacts(fromSide.facts, toSide.facts, {
      classify: this.drift.classify,
      exceptions: this.drift.exceptionRules(),
      ...(fromSide.environment !== null ? { fromEnvironment: fromSide.environment } : {}),
      ...(toSide.environment !== null ? { toEnvironment: toSide.environment } : {}),
      ...(categories ? { categories: [...categories] } : {}),
      ...(this.secretPolicy.length > 0 ? { secretPolicy: this.secretPolicy } : {}),
      now: new Date(this.now()),
    });
    return { from: fromSide, to: toSide, ...comparison };
  }

  // --- hosts -----------------------------------------------------------------------------------

  /** Hosts that are not retired, by id, filtered. */
  hosts({ environment, fact, value, labels, online }: HostFilter = {}): HostView[] {
    let hosts = this.store.listHosts();
    if (environment !== undefined) hosts = hosts.filter((host) => host.environment === environment);
    // Cheap filters first: the fact filter reads a blob per host.
    if (labels !== undefined) {
      const wanted = Object.entries(labels);
      hosts = hosts.filter((host) => wanted.every(([key, label]) => host.labels[key] === label));
    }
    if (online !== undefined) hosts = hosts.filter((host) => this.presence.isOnline(host.id) === online);
    if (fact !== undefined) {
      hosts = hosts.filter((host) => {
        const actual = hostFact(host, (hash) => this.store.getBlob(hash), fact);
        return actual !== undefined && (value === undefined || valueMatches(actual, value));
      });
    }
    return hosts;
  }

  /** A host (retired ones too), else NotFoundError. */
  host(id: string): HostView {
    const host = this.store.getHost(id);
    if (!host) throw new NotFoundError(`unknown host ${JSON.stringify(id)}`);
    return host;
  }

  /** Whether the host's agent is connected, and its presence phase when the engine tracks them. */
  presenceOf(hostId: string): { online: boolean; presence?: HostPresence } {
    const online = this.presence.isOnline(hostId);
    return this.presence.presenceOf ? { online, presence: this.presence.presenceOf(hostId) } : { online };
  }

  /** All current facts of a host. */
  hostFacts(id: string): FactMap {
    return this.store.getHostFacts(this.host(id).id) ?? {};
  }

  /** A host's changes observed at or after `since`, oldest first. */
  async changes(hostId: string, { since, limit }: { since?: number; limit: number }): Promise<Page<FactChange>> {
    const host = this.host(hostId);
    // One more than asked tells whether the answer was cut.
    const rows = await this.store.listChanges(host.id, { since, limit: limit + 1 });
    return { items: rows.slice(0, limit), truncated: rows.length > limit };
  }

  // --- a host's timeline, newest first (the dashboard's host page) ---------------------------

  /** A host's changes newest first: the first page, or the page after `before` (one indexed read). */
  async recentChanges(
    hostId: string,
    { before, limit }: { before?: ChangeCursor; limit: number },
  ): Promise<RecentChanges> {
    const host = this.host(hostId);
    const skip = before?.skip ?? 0;
    // One more than asked tells whether there is an older page.
    const rows = await this.store.listChanges(host.id, {
      order: 'newest',
      ...(before ? { until: before.at } : {}),
      offset: skip,
      limit: limit + 1,
    });
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    if (rows.length <= limit || last === undefined) return { items, next: null };
    // The next page starts at the last row's time, past the rows at that time shown so far.
    const sameTime = items.filter((change) => change.at === last.at).length;
    return { items, next: { at: last.at, skip: sameTime + (before?.at === last.at ? skip : 0) } };
  }

  /** Values of one path across the fleet, or one known environment. */
  distribution(path: string, environment?: string): FactDistribution {
    const name = environment === undefined ? undefined : this.knownEnvironment(environment);
    const hosts = this.store.listHosts().filter((host) => name === undefined || host.environment === name);
    return factDistribution(hosts, (hash) => this.store.getBlob(hash), path);
  }

  // --- drift events and exceptions -------------------------------------------------------------

  /** Drift events newest first, as the API shows them (open outlier events with their current paths). */
  async driftEvents(query: Omit<DriftEventQuery, 'limit'> & { limit: number }): Promise<Page<DriftEventRecord>> {
    await this.drift.checkExpiredExceptions();
    const rows = await this.store.listDriftEvents({ ...query, limit: query.limit + 1 });
    return {
      items: rows.slice(0, query.limit).map((row) => this.drift.eventRecord(row)),
      truncated: rows.length > query.limit,
    };
  }

  /** Every exception, expired ones included, after publishing the expiries noticed now. */
  async exceptions(): Promise<ExceptionRecord[]> {
    await this.drift.checkExpiredExceptions();
    return this.store.listExceptions();
  }

  /** The exceptions in the form `compareFacts` takes. */
  exceptionRules(): ExceptionRule[] {
    return this.drift.exceptionRules();
  }

  // --- the dashboard's environment and fact pages ----------------------------------------------

  /** One known environment's summary, as `environments()` lists it, without the others' counts. */
  async environmentSummary(name: string): Promise<EnvironmentSummary> {
    const environment = this.knownEnvironment(name);
    await this.drift.checkExpiredExceptions();
    const { promotion } = this.drift;
    return {
      name: environment,
      state: this.drift.state(environment),
      outlierHosts: this.drift.outlierHostCount(environment),
      openDrift: this.drift.openEventCount(environment),
      upstream: upstreamOf(environment, promotion) ?? null,
      downstream: downstreamOf(environment, promotion) ?? null,
    };
  }

  /**
   * A known environment's outliers grouped by cause (a path and both its values: the drift engine's
   * `causeKey`), judged with the exceptions; drift first, then justified, then scale, most hosts
   * first. Which hosts share which cause is computed once per environment state (outlier-causes.ts);
   * a request judges the causes and merges host ids for the groups it returns.
   */
  async outlierGroups(
    name: string,
    { includeScale, limit, hostsPerGroup }: { includeScale: boolean; limit: number; hostsPerGroup: number },
  ): Promise<OutlierCauseGroups> {
    const environment = this.knownEnvironment(name);
    await this.drift.checkExpiredExceptions();
    const state = this.drift.state(environment);
    const { causes, outlierHosts } = outlierCauses(state, includeScale, hostsPerGroup);
    const judged = judgeOutliers(
      causes.map(({ difference }) => ({ hostId: '', ...difference })),
      environment,
      this.drift.exceptionRules(),
      new Date(this.now()),
    );
    const ranked = judged.map((outlier, index) => {
      const cause = causes[index] as OutlierCause;
      return { outlier, cause, status: outlier.status, hostCount: cause.hostCount, path: outlier.path, key: cause.key };
    });
    ranked.sort(byCauseRank);
    const groups = ranked.slice(0, limit).map(({ outlier: { hostId: _, ...outlier }, cause }) => ({
      ...outlier,
      hostCount: cause.hostCount,
      hosts: causeHosts(cause, hostsPerGroup),
    }));
    return { state, groups, total: ranked.length, outlierHosts };
  }

  /** Values of one path in every environment that has hosts, promotion order first (one walk of the hosts). */
  distributionsByEnvironment(path: string): { environment: string; distribution: FactDistribution }[] {
    const byEnvironment = new Map<string, HostView[]>();
    for (const host of this.store.listHosts()) {
      if (host.environment === null) continue;
      const hosts = byEnvironment.get(host.environment);
      if (hosts) hosts.push(host);
      else byEnvironment.set(host.environment, [host]);
    }
    const blobOf = (hash: string) => this.store.getBlob(hash);
    return sortEnvironments([...byEnvironment.keys()], this.drift.promotion).map((environment) => ({
      environment,
      distribution: factDistribution(byEnvironment.get(environment) ?? [], blobOf, path),
    }));
  }
}

/** Hosts of an environment that share one difference from its baseline: a path and both values. */
export interface OutlierCauseGroup extends PathDifference {
  status: DifferenceStatus;
  exception?: { id: string; reason: string };
  /** How many hosts have this difference. */
  hostCount: number;
  /** The first of them by id (at most `hostsPerGroup`). */
  hosts: string[];
}

export interface OutlierCauseGroups {
  state: EnvironmentState;
  /** The first `limit` groups. */
  groups: OutlierCauseGroup[];
  /** Groups in all. */
  total: number;
  /** Hosts with at least one of the differences counted (behavior, or scale too). */
  outlierHosts: number;
}
