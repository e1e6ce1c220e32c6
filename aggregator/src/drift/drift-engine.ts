/**
 * The drift engine: turns store commits into drift events. After each commit (debounced, so a burst
 * of reports costs one pass) it re-evaluates the environments that changed — outliers inside each,
 * differences between environment pairs, emergency changes — reconciles them with the open events,
 * persists the outcome in one transaction and publishes it on `events` (webhooks subscribe there).
 *
 * Everything it reads is in memory (the store's current state, cached per environment); only
 * emergency detection asks the history (one indexed query per distinct path and value). Justified
 * differences never open events; an exception's expiry is noticed periodically and on reads, is
 * published once (`exception.expired`), and its differences open drift events in the same pass.
 *
 * One notification per cause: outliers are grouped by cause (outlier-groups.ts), an emergency
 * change marks the event it causes instead of opening its own (emergency-ledger.ts), and a new
 * event is held for a grouping window (`groupWindowMs`) before it opens, so the hosts a rollout
 * reaches within the window join it and a difference that lasts less than the window (a rollout
 * passing through, a flip of the baseline) is never announced. Presence (presence-tracker.ts):
 * an offline host keeps counting in the baseline for a grace period; past it, it leaves with one
 * `host.lost` event, and the resolutions its leaving causes are part of that event.
 *
 * This class only composes the parts, one job each: the scheduler (drift-scheduler.ts: when passes
 * run and with what), the pass (drift-pass.ts: presence, emergencies, the pure evaluation of
 * drift-evaluation.ts, one write through drift-persistence.ts, then publish-pass.ts), the ledger
 * (drift-ledger.ts: what it remembers between passes) and the read model (drift-read-model.ts:
 * what the routes read).
 */
import { type Classifier, createClassifier, type ExceptionRule, type SecretPolicyRule } from '@envparity/shared';
import type { Logger } from 'pino';
import type { FactStore, StoredDriftEvent, StoreEvent } from '../store/fact-store.js';
import type { DriftEvaluationSettings } from './drift-evaluation.js';
import { DriftLedger } from './drift-ledger.js';
import { type DriftPassContext, runDriftPass } from './drift-pass.js';
import { DriftReadModel, type OutlierReadOptions } from './drift-read-model.js';
import { DriftScheduler } from './drift-scheduler.js';
import { emergencyCandidates } from './emergency.js';
import { EmergencyLedger } from './emergency-ledger.js';
import { type EnvironmentState, EnvironmentStates } from './environment-states.js';
import { type DriftEventRecord, DriftEvents } from './events.js';
import { isExceptionExpired } from './exception-rules.js';
import { HostSnapshots, type Presence } from './host-snapshots.js';
import type { JudgedOutlier } from './judge-outliers.js';
import { countsInBaseline, type HostPresence, PresenceTracker } from './presence-tracker.js';

/** Quiet time after a commit before the changed environments are re-evaluated. */
export const DEFAULT_DRIFT_DEBOUNCE_MS = 250;
/** How often exception expiries are looked for (reads look too). */
export const DEFAULT_EXCEPTION_CHECK_MS = 10_000;
/** Default grouping window: a new event waits this long for the other hosts of its cause. */
export const DEFAULT_GROUP_WINDOW_MS = 10_000;

/** Presence plus change notifications (the agent gateway); without them presence is re-read on changes only. */
export interface PresenceSource extends Presence {
  onPresenceChange?(listener: (hostId: string, online: boolean) => void): () => void;
}

export interface DriftEngineOptions {
  store: FactStore;
  presence: PresenceSource;
  classify?: Classifier;
  /** Upstream first; adjacent pairs are compared and define emergency changes. */
  promotion?: readonly string[];
  /** Config `comparePairs`: pairs compared besides the promotion neighbours (nothing else is, never all N²). */
  comparePairs?: readonly (readonly [string, string])[];
  events?: DriftEvents;
  debounceMs?: number;
  exceptionCheckMs?: number;
  /** How long an offline host keeps counting in the baseline (config `presence.graceSeconds`). */
  presenceGraceMs?: number;
  /** How long without contact until a host is retired (config `presence.retireAfter`). */
  retireAfterMs?: number;
  /** How long a new event waits for the other hosts of its cause (DEFAULT_GROUP_WINDOW_MS). */
  groupWindowMs?: number;
  /** Config `secretPolicy`: `secret-policy` findings between environments open pair events like drift. */
  secretPolicy?: readonly SecretPolicyRule[];
  now?: () => number;
  logger?: Pick<Logger, 'error' | 'warn' | 'info' | 'debug'>;
  /**
   * Whether this engine runs passes (writes and publishes events). Several aggregators on one
   * database: only the leader does (cluster/cluster-leadership.ts); the others answer reads from
   * the same in-memory state and the open events the leader wrote. True by default.
   */
  leading?: boolean;
}

export class DriftEngine {
  readonly events: DriftEvents;
  readonly states: EnvironmentStates;
  readonly promotion: readonly string[];
  /** Pairs compared besides the promotion neighbours (config `comparePairs`). */
  readonly comparePairs: readonly (readonly [string, string])[];
  readonly classify: Classifier;
  /** Presence phases (online, offline within the grace, lost, retired). */
  readonly presence: PresenceTracker;
  readonly #store: FactStore;
  readonly #presence: PresenceSource;
  readonly #now: () => number;
  readonly #logger: DriftEngineOptions['logger'];
  readonly #ledger = new DriftLedger();
  readonly #reads: DriftReadModel;
  readonly #scheduler: DriftScheduler;
  readonly #unsubscribe: (() => void)[] = [];
  #started = false;
  #leading: boolean;
  /** A follower's reload of the open events, and whether another was asked for meanwhile. */
  #reloading: Promise<void> | undefined;
  #reloadAgain = false;

  constructor(options: DriftEngineOptions) {
    this.#store = options.store;
    this.#presence = options.presence;
    this.classify = options.classify ?? createClassifier();
    this.promotion = options.promotion ?? [];
    this.comparePairs = options.comparePairs ?? [];
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#leading = options.leading ?? true;
    this.events =
      options.events ??
      new DriftEvents((error, event) =>
        this.#logger?.error({ err: { message: (error as Error)?.message }, type: event.type }, 'drift listener failed'),
      );
    this.presence = new PresenceTracker({
      store: this.#store,
      presence: this.#presence,
      since: this.#now(),
      ...(options.presenceGraceMs !== undefined ? { graceMs: options.presenceGraceMs } : {}),
      ...(options.retireAfterMs !== undefined ? { retireAfterMs: options.retireAfterMs } : {}),
    });
    this.states = new EnvironmentStates({
      store: this.#store,
      snapshots: new HostSnapshots(this.#store, this.#presence, (host) =>
        countsInBaseline(this.presence.of(host.id, host)),
      ),
      classify: this.classify,
    });
    this.#reads = new DriftReadModel({ store: this.#store, states: this.states, ledger: this.#ledger, now: this.#now });
    const groupWindowMs = options.groupWindowMs ?? DEFAULT_GROUP_WINDOW_MS;
    const settings: DriftEvaluationSettings = {
      classify: this.classify,
      promotion: this.promotion,
      comparePairs: this.comparePairs,
      secretPolicy: options.secretPolicy ?? [],
      groupWindowMs,
    };
    const pass: DriftPassContext = {
      store: this.#store,
      states: this.states,
      ledger: this.#ledger,
      emergencies: new EmergencyLedger(),
      settings,
      reads: this.#reads,
      events: this.events,
      logger: this.#logger,
    };
    this.#scheduler = new DriftScheduler({
      debounceMs: options.debounceMs ?? DEFAULT_DRIFT_DEBOUNCE_MS,
      exceptionCheckMs: options.exceptionCheckMs ?? DEFAULT_EXCEPTION_CHECK_MS,
      groupWindowMs,
      now: this.#now,
      presence: this.presence,
      held: () => this.#ledger.held,
      findExpired: (now) => this.#findExpired(now),
      invalidate: (environment) => this.states.invalidate(environment),
      // A follower's pending work is dropped: a new leader starts from a full pass (setLeading).
      runPass: (work) => (this.#leading ? runDriftPass(pass, work) : Promise.resolve()),
      flush: () => this.#store.flush(),
      logger: this.#logger,
    });
  }

  /** A host's presence: online, offline (within the grace: still in the baseline), lost or retired. */
  presenceOf(hostId: string): HostPresence {
    return this.presence.of(hostId);
  }

  /** Subscribes to the store and presence, loads the open events and evaluates every environment once. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#unsubscribe.push(this.#store.subscribe((event) => this.#onStoreEvent(event)));
    const unsubscribePresence = this.#presence.onPresenceChange?.((hostId) => this.#onPresence(hostId));
    if (unsubscribePresence) this.#unsubscribe.push(unsubscribePresence);
    const loaded = this.#store.listDriftEvents({ status: 'open' }).then((events) => this.#loadOpenEvents(events));
    this.#scheduler.start(loaded);
    loaded.catch((error: unknown) =>
      this.#logger?.error({ err: { message: (error as Error)?.message } }, 'cannot load open drift events'),
    );
  }

  get leading(): boolean {
    return this.#leading;
  }

  /**
   * Starts or stops running passes. A new leader forgets what it followed and starts as an
   * aggregator does: the open events read from the store, presence phases found again (a host
   * lost while it followed gets its `host.lost` now), every environment evaluated once. Events the
   * old leader held in its grouping window are found again by that pass, so each opens once.
   */
  async setLeading(leading: boolean): Promise<void> {
    if (leading === this.#leading) return;
    this.#leading = leading;
    if (!leading || !this.#started) return;
    const events = await this.#store.listDriftEvents({ status: 'open' });
    this.#ledger.reset();
    this.presence.reset();
    this.#loadOpenEvents(events);
  }

  /** A follower re-reads the open events the leader wrote (its reads show them); coalesced. */
  reloadOpenEvents(): Promise<void> {
    if (this.#leading) return Promise.resolve();
    if (this.#reloading) {
      this.#reloadAgain = true;
      return this.#reloading;
    }
    this.#reloading = (async () => {
      do {
        this.#reloadAgain = false;
        const events = await this.#store.listDriftEvents({ status: 'open' });
        if (this.#leading) return;
        this.#ledger.reset();
        this.#ledger.load(events);
      } while (this.#reloadAgain);
    })().finally(() => {
      this.#reloading = undefined;
    });
    return this.#reloading;
  }

  /** Stops listening and timers; waits for a pass in progress. */
  async stop(): Promise<void> {
    const stopped = this.#scheduler.stop();
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
    await stopped;
  }

  /**
   * Commits buffered reports and runs every pending evaluation now (tests, tools). It also ends the
   * grouping window: held events open at once, unless `endWindow: false` (they open when due by
   * the engine's clock).
   */
  settle({ endWindow = true }: { endWindow?: boolean } = {}): Promise<void> {
    return this.#scheduler.settle({ endWindow });
  }

  /**
   * Called by reads that judge with exceptions: a newly expired exception is published and its
   * differences evaluated before the read answers.
   */
  checkExpiredExceptions(): Promise<void> {
    return this.#scheduler.checkExpired();
  }

  /** Exceptions were added or deleted: the environments they name are re-evaluated. */
  exceptionsChanged(environments: readonly string[]): void {
    this.#scheduler.markDirty(...environments);
  }

  // --- reads (drift-read-model.ts) -------------------------------------------------------------

  /** The exceptions in the form `compareFacts` takes (expired ones included: they stop matching by themselves). */
  exceptionRules(): ExceptionRule[] {
    return this.#reads.exceptionRules();
  }

  /** Every environment a host has ever declared. */
  environments(): string[] {
    return this.#reads.environments();
  }

  state(environment: string): EnvironmentState {
    return this.#reads.state(environment);
  }

  /** Outliers of an environment, judged with the exceptions (behavior only unless `includeScale`). */
  outliers(environment: string, options: OutlierReadOptions = {}): JudgedOutlier[] {
    return this.#reads.outliers(environment, options);
  }

  /** One page of an environment's outliers (hosts by id, then paths), judged, and how many there are in all. */
  outlierPage(
    environment: string,
    options: OutlierReadOptions & { limit?: number } = {},
  ): { outliers: JudgedOutlier[]; total: number } {
    return this.#reads.outlierPage(environment, options);
  }

  /** Hosts with at least one drifting (behavior, unjustified) outlier. */
  outlierHostCount(environment: string, now = new Date(this.#now())): number {
    return this.#reads.outlierHostCount(environment, now);
  }

  /** A stored event as the API shows it (an open outlier event with its hosts' current drift). */
  eventRecord(event: StoredDriftEvent): DriftEventRecord {
    return this.#reads.eventRecord(event);
  }

  /** Open drift events that concern an environment (either side of a pair). */
  openEventCount(environment: string): number {
    return this.#reads.openEventCount(environment);
  }

  // --- change intake -----------------------------------------------------------------------------

  /** The open events at start: lost hosts stay lost, and every environment is evaluated once. */
  #loadOpenEvents(events: readonly StoredDriftEvent[]): void {
    this.#ledger.load(events);
    const environments: string[] = [];
    for (const event of events) {
      if (event.kind === 'lost' && event.hostId !== undefined) this.presence.markLost(event.hostId);
      environments.push(event.environment);
      if (event.otherEnvironment !== undefined) environments.push(event.otherEnvironment);
    }
    this.#scheduler.markDirty(...environments, ...this.#store.listEnvironments());
    this.#scheduler.requestPass();
  }

  #onStoreEvent(event: StoreEvent): void {
    switch (event.type) {
      case 'host-enrolled':
        this.#scheduler.noteHostChange();
        this.states.invalidateMembership(event.environment, event.previousEnvironment);
        this.#scheduler.markDirty(event.environment, event.previousEnvironment);
        return;
      case 'host-updated':
        if (event.retired) this.#scheduler.noteRetired(event.hostId);
        if (event.environment === event.previousEnvironment) return;
        this.states.invalidateMembership(event.environment, event.previousEnvironment);
        this.#scheduler.markDirty(event.environment, event.previousEnvironment);
        return;
      case 'facts-changed':
        this.#scheduler.noteHostChange();
        this.states.invalidate(event.environment);
        this.#scheduler.addCandidates(emergencyCandidates(event, this.promotion, this.classify));
        this.#scheduler.markDirty(event.environment);
        return;
    }
  }

  #onPresence(hostId: string): void {
    const environment = this.#store.getHost(hostId)?.environment ?? null;
    this.states.invalidate(environment);
    this.#scheduler.markDirty(environment);
  }

  /** Exceptions whose expiry passed at `now` and was not recorded yet. */
  #findExpired(now: number) {
    return this.#store
      .listExceptions()
      .filter((record) => record.expiredAt === null && record.expiresAt !== null && isExceptionExpired(record, now));
  }
}

export { lostKey, MAX_EVENT_HOSTS, outlierGroupKey, outlierKey, toDriftEventRecord } from './event-records.js';
