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
 */
import {
  type Classifier,
  canonicalValue,
  compareFacts,
  createClassifier,
  createExceptionMatcher,
  type ExceptionRule,
  type FactValue,
  matchPathGlob,
  type SecretPolicyRule,
} from '@envparity/shared';
import type { Logger } from 'pino';
import {
  type ExceptionRecord,
  type FactStore,
  type NewDriftEvent,
  PRESENCE_RETIRED_BY,
  type StoredDriftEvent,
  type StoreEvent,
} from '../store/fact-store.js';
import type { HostSnapshot } from './baseline.js';
import { type EmergencyCandidate, emergencyCandidates } from './emergency.js';
import { EmergencyLedger } from './emergency-ledger.js';
import { environmentPairs } from './environment-pairs.js';
import { type EnvironmentState, EnvironmentStates } from './environment-states.js';
import {
  hostList,
  hostsWithValue,
  lostKey,
  MAX_EVENT_HOSTS,
  outlierGroupKey,
  sameEventState,
  sameValue,
  stateHasValue,
  toDriftEventRecord,
} from './event-records.js';
import { type DriftEventRecord, DriftEvents, type DriftResolution } from './events.js';
import { isExceptionExpired, toExceptionRule } from './exception-rules.js';
import { DriftJudge, findDifference, findDrift, type HostDrift, hasDrift, hostDrift } from './host-outliers.js';
import { HostSnapshots, type Presence } from './host-snapshots.js';
import { type JudgedOutlier, judgeOutliers } from './judge-outliers.js';
import { groupDrift, type OutlierGroup, regroupOutliers } from './outlier-groups.js';
import type { Outlier, PathDifference } from './outliers.js';
import { countsInBaseline, type HostPresence, PresenceTracker, type PresenceTransition } from './presence-tracker.js';
import { type DriftItem, driftKey } from './reconcile.js';

/** Quiet time after a commit before the changed environments are re-evaluated. */
export const DEFAULT_DRIFT_DEBOUNCE_MS = 250;
/** How often exception expiries are looked for (reads look too). */
export const DEFAULT_EXCEPTION_CHECK_MS = 10_000;
/** A settle() that keeps finding new work after this many passes gives up (the work stays queued). */
const MAX_SETTLE_PASSES = 10;

/** After a failed pass (e.g. the disk is full), its work is retried after this long. */
const RETRY_AFTER_FAILURE_MS = 5000;

/** Lets sockets and HTTP requests through between two environments and every few ms of a long pass. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
/** Work between two yields of a pass. */
const SLICE_MS = 12;
/** Passes are at least this many debounces apart (2 s by default)... */
const PASS_GAP_DEBOUNCES = 8;
/** ...or this many while ingest is busy (8 s by default)... */
const BUSY_GAP_DEBOUNCES = 32;
/** ...busy meaning at least this many host changes since the last pass... */
const BUSY_CHANGES = 200;
/** ...and never closer than this many times the last pass's duration (the engine keeps to ~20% of a core). */
const PASS_DUTY_FACTOR = 4;

/** Default grouping window: a new event waits this long for the other hosts of its cause. */
export const DEFAULT_GROUP_WINDOW_MS = 10_000;
/** The engine re-checks presence and held events at least this often while some are due later. */
const MAX_WAKE_MS = 60_000;

/** Resolutions that are not announced on their own (part of a `host.lost` event, or housekeeping). */
const SILENT_RESOLUTIONS: ReadonlySet<DriftResolution> = new Set(['host-lost', 'retired', 'superseded']);

/** A resolution the pass decided, with its reason. */
interface Resolution {
  event: StoredDriftEvent;
  resolution: DriftResolution;
  exception?: { id: string; reason: string };
}

/** What one pass has to look at. */
interface PassWork {
  now: number;
  dirty: Set<string>;
  candidates: readonly EmergencyCandidate[];
  expired: readonly ExceptionRecord[];
  transitions: readonly PresenceTransition[];
  retired: ReadonlySet<string>;
  endWindow: boolean;
}

/** What the last pass saw of a host of an environment (only hosts the baseline was computed from). */
interface HostEntry {
  factsVersion: number;
  drift: HostDrift | undefined;
}

/** What the last pass of an environment saw: re-evaluated incrementally while baseline and exceptions hold. */
interface EnvironmentMemo {
  version: string;
  judgeKey: string;
  hosts: Map<string, HostEntry>;
}

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
}

export class DriftEngine {
  readonly events: DriftEvents;
  readonly states: EnvironmentStates;
  readonly promotion: readonly string[];
  /** Pairs compared besides the promotion neighbours (config `comparePairs`). */
  readonly comparePairs: readonly (readonly [string, string])[];
  readonly classify: Classifier;
  readonly #store: FactStore;
  readonly #presence: PresenceSource;
  readonly #debounceMs: number;
  readonly #exceptionCheckMs: number;
  readonly #now: () => number;
  readonly #logger: DriftEngineOptions['logger'];
  readonly #groupWindowMs: number;
  readonly #secretPolicy: readonly SecretPolicyRule[];
  /** Presence phases (online, offline within the grace, lost, retired). */
  readonly presence: PresenceTracker;
  /** The states the running pass reads (each environment computed once per pass: EnvironmentStates.pinned). */
  #passState: (environment: string) => EnvironmentState = (environment) => this.states.get(environment);
  /** Open events by key, mirrored from the store. */
  readonly #open = new Map<string, StoredDriftEvent>();
  /** New events held for the grouping window, by key (`openedAt`: when first seen). */
  readonly #held = new Map<string, NewDriftEvent>();
  readonly #emergencies = new EmergencyLedger();
  /** Hosts the store retired (DELETE /hosts/:id) since the last pass: they left without being fixed. */
  #retired = new Set<string>();
  /** Presence transitions of a pass that failed, applied by the next one. */
  readonly #failedTransitions: PresenceTransition[] = [];
  #dirty = new Set<string>();
  #candidates: EmergencyCandidate[] = [];
  #timer: NodeJS.Timeout | undefined;
  #wakeTimer: NodeJS.Timeout | undefined;
  #expiryTimer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  /** Per environment, the hosts and outliers the last pass saw. */
  readonly #memo = new Map<string, EnvironmentMemo>();
  /** Coalescing: when the last pass ended and how long it took (real time), changes since. */
  #lastPassEnd = Number.NEGATIVE_INFINITY;
  #lastPassMs = 0;
  #changesSincePass = 0;
  #loaded: Promise<void> | undefined;
  readonly #unsubscribe: (() => void)[] = [];
  #stopped = false;

  constructor(options: DriftEngineOptions) {
    this.#store = options.store;
    this.#presence = options.presence;
    this.classify = options.classify ?? createClassifier();
    this.promotion = options.promotion ?? [];
    this.comparePairs = options.comparePairs ?? [];
    this.#logger = options.logger;
    this.events =
      options.events ??
      new DriftEvents((error, event) =>
        this.#logger?.error({ err: { message: (error as Error)?.message }, type: event.type }, 'drift listener failed'),
      );
    this.#debounceMs = options.debounceMs ?? DEFAULT_DRIFT_DEBOUNCE_MS;
    this.#exceptionCheckMs = options.exceptionCheckMs ?? DEFAULT_EXCEPTION_CHECK_MS;
    this.#now = options.now ?? Date.now;
    this.#groupWindowMs = options.groupWindowMs ?? DEFAULT_GROUP_WINDOW_MS;
    this.#secretPolicy = options.secretPolicy ?? [];
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
  }

  /** A host's presence: online, offline (within the grace: still in the baseline), lost or retired. */
  presenceOf(hostId: string): HostPresence {
    return this.presence.of(hostId);
  }

  /** Subscribes to the store and presence, loads the open events and evaluates every environment once. */
  start(): void {
    if (this.#loaded) return;
    this.#unsubscribe.push(this.#store.subscribe((event) => this.#onStoreEvent(event)));
    const unsubscribePresence = this.#presence.onPresenceChange?.((hostId) => this.#onPresence(hostId));
    if (unsubscribePresence) this.#unsubscribe.push(unsubscribePresence);
    this.#expiryTimer = setInterval(() => {
      if (this.#findExpired().length > 0) void this.#run();
    }, this.#exceptionCheckMs);
    this.#expiryTimer.unref();
    this.#loaded = this.#store.listDriftEvents({ status: 'open' }).then((events) => {
      for (const event of events) {
        this.#open.set(event.key, event);
        if (event.kind === 'lost' && event.hostId !== undefined) this.presence.markLost(event.hostId);
        this.#dirty.add(event.environment);
        if (event.otherEnvironment !== undefined) this.#dirty.add(event.otherEnvironment);
      }
      for (const environment of this.#store.listEnvironments()) this.#dirty.add(environment);
      this.#schedule();
    });
    this.#loaded.catch((error: unknown) =>
      this.#logger?.error({ err: { message: (error as Error)?.message } }, 'cannot load open drift events'),
    );
  }

  /** Stops listening and timers; waits for a pass in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#expiryTimer) clearInterval(this.#expiryTimer);
    if (this.#wakeTimer) clearTimeout(this.#wakeTimer);
    this.#timer = undefined;
    this.#wakeTimer = undefined;
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
    await this.#running;
  }

  /**
   * Commits buffered reports and runs every pending evaluation now (tests, tools). It also ends the
   * grouping window: held events open at once, unless `endWindow: false` (they open when due by
   * the engine's clock).
   */
  async settle({ endWindow = true }: { endWindow?: boolean } = {}): Promise<void> {
    await this.#store.flush();
    for (let pass = 0; pass < MAX_SETTLE_PASSES; pass++) {
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = undefined;
      await this.#run(endWindow);
      if (
        this.#dirty.size === 0 &&
        this.#candidates.length === 0 &&
        this.#findExpired().length === 0 &&
        this.#retired.size === 0 &&
        !this.#due(this.#now()) &&
        (!endWindow || this.#held.size === 0)
      )
        return;
    }
  }

  /** Whether presence transitions or held events are due by `now`. */
  #due(now: number): boolean {
    if (this.presence.nextDue() <= now) return true;
    for (const event of this.#held.values()) if (event.openedAt + this.#groupWindowMs <= now) return true;
    return false;
  }

  /** Wakes the engine when the next presence transition or held event is due (real time, capped). */
  #scheduleWake(): void {
    if (this.#stopped) return;
    if (this.#wakeTimer) clearTimeout(this.#wakeTimer);
    this.#wakeTimer = undefined;
    let next = this.presence.nextDue();
    for (const event of this.#held.values()) next = Math.min(next, event.openedAt + this.#groupWindowMs);
    if (!Number.isFinite(next)) return;
    const delay = Math.min(MAX_WAKE_MS, Math.max(50, next - this.#now() + 5));
    this.#wakeTimer = setTimeout(() => {
      this.#wakeTimer = undefined;
      if (this.#due(this.#now())) void this.#run();
      else this.#scheduleWake();
    }, delay);
    this.#wakeTimer.unref();
  }

  /**
   * Called by reads that judge with exceptions: a newly expired exception is published and its
   * differences evaluated before the read answers.
   */
  async checkExpiredExceptions(): Promise<void> {
    if (this.#findExpired().length > 0) await this.#run();
  }

  /** Exceptions were added or deleted: the environments they name are re-evaluated. */
  exceptionsChanged(environments: readonly string[]): void {
    this.#markDirty(...environments);
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
    return this.states.get(environment);
  }

  /** Outliers of an environment, judged with the exceptions (behavior only unless `includeScale`). */
  outliers(environment: string, { includeScale = false, now = new Date(this.#now()) } = {}): JudgedOutlier[] {
    const outliers = this.states.get(environment).outliers();
    const wanted = includeScale ? outliers : outliers.filter((outlier) => outlier.class === 'behavior');
    return judgeOutliers(wanted, environment, this.exceptionRules(), now);
  }

  /**
   * One page of an environment's outliers (hosts by id, then paths), judged, and how many there
   * are in all; built from the cached per-blob differences, so a page costs its hosts only.
   */
  outlierPage(
    environment: string,
    { includeScale = false, limit = Number.POSITIVE_INFINITY, now = new Date(this.#now()) } = {},
  ): { outliers: JudgedOutlier[]; total: number } {
    const state = this.states.get(environment);
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
    const state = this.states.get(environment);
    const judge = new DriftJudge(environment, this.exceptionRules(), now);
    let count = 0;
    for (const host of state.baselineHosts) if (hasDrift(state.index, host, judge)) count++;
    return count;
  }

  /**
   * A stored event as the API shows it; an open outlier event gains its hosts' current `count` and
   * `paths`, a lost host's event its `lastSeen`.
   */
  eventRecord(event: StoredDriftEvent): DriftEventRecord {
    if (event.kind === 'lost') return this.#record(event);
    if (event.kind !== 'outlier' || event.status !== 'open') return toDriftEventRecord(event);
    const open = this.#open.get(event.key);
    if (open?.id !== event.id) return toDriftEventRecord(event);
    const memo = this.#memo.get(event.environment);
    const drift = groupDrift(open.hosts ?? [], (host) => memo?.hosts.get(host)?.drift);
    return toDriftEventRecord(open, drift);
  }

  #record(event: StoredDriftEvent, drift?: HostDrift): DriftEventRecord {
    const record = toDriftEventRecord(event, drift);
    if (event.kind === 'lost' && event.hostId !== undefined) {
      const lastSeen = this.#store.getHost(event.hostId)?.lastSeen;
      if (lastSeen !== null && lastSeen !== undefined) record.lastSeen = new Date(lastSeen).toISOString();
    }
    return record;
  }

  /** Open drift events that concern an environment (either side of a pair). */
  openEventCount(environment: string): number {
    let count = 0;
    for (const event of this.#open.values()) {
      if (event.environment === environment || event.otherEnvironment === environment) count++;
    }
    return count;
  }

  // --- change intake ---------------------------------------------------------------------------

  #onStoreEvent(event: StoreEvent): void {
    switch (event.type) {
      case 'host-enrolled':
        this.#changesSincePass++;
        this.states.invalidateMembership(event.environment, event.previousEnvironment);
        this.#markDirty(event.environment, event.previousEnvironment);
        return;
      case 'host-updated':
        if ((event as { retired?: boolean }).retired) this.#retired.add(event.hostId);
        if (event.environment === event.previousEnvironment) return;
        this.states.invalidateMembership(event.environment, event.previousEnvironment);
        this.#markDirty(event.environment, event.previousEnvironment);
        return;
      case 'facts-changed':
        this.#changesSincePass++;
        this.states.invalidate(event.environment);
        this.#candidates.push(...emergencyCandidates(event, this.promotion, this.classify));
        this.#markDirty(event.environment);
        return;
    }
  }

  #onPresence(hostId: string): void {
    const environment = this.#store.getHost(hostId)?.environment ?? null;
    this.states.invalidate(environment);
    this.#markDirty(environment);
  }

  #markDirty(...environments: (string | null | undefined)[]): void {
    let any = false;
    for (const environment of environments) {
      if (environment === null || environment === undefined) continue;
      this.#dirty.add(environment);
      any = true;
    }
    if (any) this.#schedule();
  }

  /** How long passes stay apart: longer while ingest is busy, and proportional to the last pass's duration. */
  #passGap(): number {
    const busy = this.#changesSincePass >= BUSY_CHANGES;
    return Math.max(
      this.#debounceMs * (busy ? BUSY_GAP_DEBOUNCES : PASS_GAP_DEBOUNCES),
      this.#lastPassMs * PASS_DUTY_FACTOR,
    );
  }

  /** Coalesces passes: at least the debounce after the change, and at least the gap after the last pass. */
  #schedule(delayMs = this.#debounceMs): void {
    if (this.#stopped || this.#timer) return;
    const wait = Math.max(delayMs, this.#passGap() - (performance.now() - this.#lastPassEnd));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      // Ingest may have become busy while waiting: the pass waits for the longer gap then.
      const remaining = this.#passGap() - (performance.now() - this.#lastPassEnd);
      if (remaining > 1) this.#schedule(remaining);
      else void this.#run();
    }, wait);
    this.#timer.unref();
  }

  /** One pass at a time: a pass requested while one runs follows it. */
  #run(endWindow = false): Promise<void> {
    const next = (this.#running ?? Promise.resolve())
      .then(() => this.#pass(endWindow))
      .catch((error: unknown) => {
        this.#logger?.error({ err: { message: (error as Error)?.message } }, 'drift evaluation failed');
      });
    this.#running = next;
    void next.finally(() => {
      if (this.#running === next) this.#running = undefined;
    });
    return next;
  }

  #findExpired(now = this.#now()) {
    return this.#store
      .listExceptions()
      .filter((record) => record.expiredAt === null && record.expiresAt !== null && isExceptionExpired(record, now));
  }

  // --- evaluation ------------------------------------------------------------------------------

  async #pass(endWindow: boolean): Promise<void> {
    await this.#loaded;
    if (this.#stopped) return;
    const now = this.#now();
    const expired = this.#findExpired(now);
    for (const record of expired) for (const environment of record.environments) this.#dirty.add(environment);
    // Transitions of a failed pass are applied again (the tracker has moved on already).
    const transitions = [...this.#failedTransitions.splice(0), ...this.presence.refresh(now)];
    for (const { environment } of transitions) {
      this.states.invalidate(environment);
      if (environment !== null) this.#dirty.add(environment);
    }
    const heldDue = [...this.#held.values()].some((e) => endWindow || e.openedAt + this.#groupWindowMs <= now);
    const retired = this.#retired;
    const dirty = this.#dirty;
    const candidates = this.#candidates;
    this.#dirty = new Set();
    this.#candidates = [];
    this.#retired = new Set();
    if (dirty.size === 0 && candidates.length === 0 && expired.length === 0 && !heldDue && retired.size === 0) {
      this.#scheduleWake();
      return;
    }
    this.#changesSincePass = 0;
    const started = performance.now();
    try {
      await this.#evaluate({ now, dirty, candidates, expired, transitions, retired, endWindow });
      this.#lastPassMs = performance.now() - started;
      this.#lastPassEnd = performance.now();
    } catch (error) {
      // Nothing was published: the same work is retried later (expiries are found again).
      for (const environment of dirty) this.#dirty.add(environment);
      for (const hostId of retired) this.#retired.add(hostId);
      this.#failedTransitions.unshift(...transitions);
      this.#candidates.unshift(...candidates);
      this.#schedule(RETRY_AFTER_FAILURE_MS);
      throw error;
    } finally {
      this.#scheduleWake();
    }
  }

  async #evaluate(pass: PassWork): Promise<void> {
    this.#passState = this.states.pinned();
    try {
      await this.#evaluatePass(pass);
    } finally {
      this.#passState = (environment) => this.states.get(environment);
    }
  }

  async #evaluatePass(pass: PassWork): Promise<void> {
    const { now, dirty, candidates, expired, transitions, retired, endWindow } = pass;
    const at = new Date(now);
    const rules = this.exceptionRules();
    const toOpen: NewDriftEvent[] = [];
    const resolutions = new Map<string, Resolution>();
    const updated = new Map<string, StoredDriftEvent>();
    const resolve = (
      event: StoredDriftEvent,
      resolution: DriftResolution,
      exception?: { id: string; reason: string },
    ) => {
      if (resolutions.has(event.key)) return;
      resolutions.set(event.key, { event, resolution, ...(exception ? { exception } : {}) });
    };

    // Presence: hosts that left the baseline without being fixed, and why.
    const { left, leftReason } = await this.#applyPresence(now, transitions, retired, toOpen, resolve);
    for (const environment of leftReason.keys()) dirty.add(environment);

    // Emergency changes open no event of their own: they mark the event they cause (below).
    const emergencyChanges = await this.#recordEmergencies(candidates, rules, at);

    // Outlier groups of the dirty environments.
    // Computing a state may build its baseline (every state, after a membership change): time-sliced.
    const withFacts: string[] = [];
    let sliceStart = performance.now();
    for (const env of this.states.environmentsWithHosts()) {
      if (this.#passState(env).hosts.length > 0) withFacts.push(env);
      if (performance.now() - sliceStart > SLICE_MS) {
        await yieldToEventLoop();
        sliceStart = performance.now();
      }
    }
    const hasFacts = new Set(withFacts);
    /** New memos, committed once the pass is written (a failed pass leaves the old ones). */
    const memos = new Map<string, EnvironmentMemo | undefined>();
    /** Drift of resolved outlier events (from the previous memo), for the published records. */
    const resolvedDrift = new Map<string, HostDrift | undefined>();
    /** Environments whose hosts' category maps changed (pair event hosts are recomputed there). */
    const changedEnvs = new Set<string>();
    await this.#evaluateOutliers({
      now,
      at,
      rules,
      dirty,
      hasFacts,
      left,
      leftReason,
      memos,
      resolvedDrift,
      changedEnvs,
      updated,
      resolve,
    });

    // Environment pairs: one event per path, holding the `to` side's hosts of the value.
    await this.#evaluatePairs({ now, at, rules, dirty, withFacts, changedEnvs, leftReason, updated, resolve });

    // Emergency events of older versions (one per host and change) are replaced by the flag on the event they caused.
    for (const event of this.#open.values()) if (event.kind === 'emergency') resolve(event, 'superseded');

    // Held events whose window passed open now (the same difference, with every host it reached since).
    // An exception's expiry is the cause of what it stops justifying: that opens at once.
    const byExpiry = (event: NewDriftEvent) =>
      expired.some(
        (record) =>
          record.environments.includes(event.environment) &&
          (event.otherEnvironment === undefined || record.environments.includes(event.otherEnvironment)) &&
          matchPathGlob(record.path, event.path),
      );
    const opening: string[] = [];
    for (const [key, event] of this.#held) {
      if (!endWindow && event.openedAt + this.#groupWindowMs > now && !byExpiry(event)) continue;
      toOpen.push(event);
      opening.push(key);
    }

    const resolved = [...resolutions.values()];
    const updates = [...updated.values()].filter((event) => !resolutions.has(event.key));
    // Held events leave the window only once written (a failed write keeps them held, same openedAt).
    const release = () => {
      for (const key of opening) this.#held.delete(key);
    };
    const expiredExceptions = expired.map((record) => ({ id: record.id, at: now }));
    const opened =
      toOpen.length === 0 &&
      resolved.length === 0 &&
      updates.length === 0 &&
      emergencyChanges.length === 0 &&
      expiredExceptions.length === 0
        ? []
        : await this.#store.writeDriftEvents({
            open: toOpen,
            emergencyChanges,
            expiredExceptions,
            resolve: resolved.map(({ event, resolution, exception }) => ({
              id: event.id,
              at: now,
              resolution,
              ...(exception ? { exception } : {}),
            })),
            update: updates.map(({ id, expected, actual, hosts, hostCount, emergency, upstream }) => ({
              id,
              ...(expected !== undefined ? { expected } : {}),
              ...(actual !== undefined ? { actual } : {}),
              ...(hosts !== undefined ? { hosts } : {}),
              ...(hostCount !== undefined ? { hostCount } : {}),
              ...(emergency ? { emergency } : {}),
              ...(upstream !== undefined ? { upstream } : {}),
            })),
          });
    release();
    for (const [environment, memo] of memos) {
      if (memo) this.#memo.set(environment, memo);
      else this.#memo.delete(environment);
    }
    this.#emergencies.prune(
      dirty,
      (entry) =>
        stateHasValue(this.#passState(entry.environment), entry.path, entry.value) &&
        !stateHasValue(this.#passState(entry.upstream), entry.path, entry.value),
    );
    this.#publish({ at, expired, updates, resolved, opened, resolvedDrift });
    this.#logger?.debug(
      {
        environments: [...dirty],
        opened: opened.length,
        resolved: resolved.length,
        updated: updates.length,
        held: this.#held.size,
      },
      'drift evaluated',
    );
  }

  /**
   * Emergency changes of the pass: flagged in the history and recorded in the ledger, from which
   * the event they cause takes its mark. One history query per distinct (upstream, path, value).
   */
  async #recordEmergencies(
    candidates: readonly EmergencyCandidate[],
    rules: ExceptionRule[],
    at: Date,
  ): Promise<{ hostId: string; seq: number; path: string }[]> {
    const flagged: { hostId: string; seq: number; path: string }[] = [];
    const upstreamHad = new Map<string, Promise<boolean>>();
    const hadValue = (upstream: string, path: string, value: FactValue): Promise<boolean> => {
      const key = `${upstream}\u0000${path}\u0000${canonicalValue(value)}`;
      let answer = upstreamHad.get(key);
      if (!answer) {
        answer = stateHasValue(this.#passState(upstream), path, value)
          ? Promise.resolve(true)
          : this.#store.environmentHadValue(upstream, path, value);
        upstreamHad.set(key, answer);
      }
      return answer;
    };
    const known = new Set(this.#store.listEnvironments());
    for (const candidate of candidates) {
      // An upstream no host ever declared is not in use yet: nothing can be promoted through it.
      if (!known.has(candidate.upstream)) continue;
      const justified = createExceptionMatcher(rules, candidate.upstream, candidate.environment, at)(candidate.path);
      if (justified) continue;
      if (await hadValue(candidate.upstream, candidate.path, candidate.value)) continue;
      // Flagged in the history by the pass's own write, with its events.
      flagged.push({ hostId: candidate.hostId, seq: candidate.seq, path: candidate.path });
      this.#emergencies.record(candidate);
    }
    return flagged;
  }

  /** Outlier groups of the dirty environments: regrouped, then resolved, updated or held. */
  async #evaluateOutliers(pass: {
    now: number;
    at: Date;
    rules: ExceptionRule[];
    dirty: ReadonlySet<string>;
    hasFacts: ReadonlySet<string>;
    left: ReadonlySet<string>;
    leftReason: ReadonlyMap<string, DriftResolution>;
    memos: Map<string, EnvironmentMemo | undefined>;
    resolvedDrift: Map<string, HostDrift | undefined>;
    changedEnvs: Set<string>;
    updated: Map<string, StoredDriftEvent>;
    resolve: (event: StoredDriftEvent, resolution: DriftResolution, exception?: { id: string; reason: string }) => void;
  }): Promise<void> {
    const { now, at, rules, dirty, hasFacts, left, leftReason, memos, resolvedDrift, changedEnvs, updated, resolve } =
      pass;
    const groupsOf = this.#outlierGroupsOf(dirty);
    for (const environment of dirty) {
      await yieldToEventLoop();
      const previous = this.#memo.get(environment);
      const groups = groupsOf.get(environment) ?? [];
      if (!hasFacts.has(environment)) {
        for (const group of groups) {
          const event = this.#open.get(group.key);
          if (event) {
            resolvedDrift.set(
              group.key,
              groupDrift(group.hosts, (host) => previous?.hosts.get(host)?.drift),
            );
            resolve(event, leftReason.get(environment) ?? 'fixed');
          } else this.#held.delete(group.key);
        }
        memos.set(environment, undefined);
        continue;
      }
      const state = this.#passState(environment);
      const judge = new DriftJudge(environment, rules, at);
      // Everything is looked at again when the baseline or the exceptions changed; else only changed hosts.
      const full = previous === undefined || previous.version !== state.version || previous.judgeKey !== judge.key;
      const hosts = new Map<string, HostEntry>();
      const snapshots = new Map<string, HostSnapshot>();
      const changed: string[] = [];
      let sliceStart = performance.now();
      for (const host of state.baselineHosts) {
        snapshots.set(host.id, host);
        const before = previous?.hosts.get(host.id);
        if (!full && before !== undefined && before.factsVersion === host.factsVersion) {
          hosts.set(host.id, before);
          continue;
        }
        hosts.set(host.id, { factsVersion: host.factsVersion, drift: hostDrift(state.index, host, judge) });
        changed.push(host.id);
        if (performance.now() - sliceStart > SLICE_MS) {
          await yieldToEventLoop();
          sliceStart = performance.now();
        }
      }
      if (previous) for (const id of previous.hosts.keys()) if (!hosts.has(id)) changed.push(id);
      if (full || changed.length > 0) changedEnvs.add(environment);
      memos.set(environment, { version: state.version, judgeKey: judge.key, hosts });
      const look = new Set(changed);
      if (full) {
        for (const id of hosts.keys()) look.add(id);
        for (const group of groups) for (const id of group.hosts) look.add(id);
      }
      const tied = new Set(state.baseline.ties.map((tie) => tie.path));
      const regrouped = regroupOutliers({
        groups,
        look,
        driftOf: (hostId) => hosts.get(hostId)?.drift,
        // A tie is undecided, not fixed: the member stays while its cause path is tied.
        holds: (hostId, group) => hosts.has(hostId) && tied.has(group.path),
        newKey: (first) => this.#uniqueKey(outlierGroupKey(environment, first)),
      });
      for (const group of regrouped.values()) {
        if (!group.touched) continue;
        const event = this.#open.get(group.key);
        if (group.hosts.size === 0) {
          if (!event) {
            this.#held.delete(group.key);
            continue;
          }
          resolvedDrift.set(
            group.key,
            groupDrift(group.removed, (host) => previous?.hosts.get(host)?.drift),
          );
          if (group.removed.some((host) => left.has(host))) {
            resolve(event, leftReason.get(environment) ?? 'host-lost');
            continue;
          }
          const exception = this.#justification(state, judge, snapshots, group);
          if (exception) resolve(event, 'justified', exception);
          else resolve(event, 'fixed');
          continue;
        }
        this.#placeOutlierGroup(environment, group, event, now, updated, (hostId) => {
          const snapshot = snapshots.get(hostId);
          return snapshot && findDrift(state.index, snapshot, judge, group.path);
        });
      }
    }
  }

  /**
   * Presence transitions of the pass: a lost host opens its `lost` event (no window: the grace was
   * the wait), a host that reports again resolves it, a host past `retireAfter` is retired. Returns
   * the hosts that left the baseline without being fixed and, per environment, the resolution their
   * leaving gives to the events it resolves.
   */
  async #applyPresence(
    now: number,
    transitions: readonly PresenceTransition[],
    retired: ReadonlySet<string>,
    toOpen: NewDriftEvent[],
    resolve: (event: StoredDriftEvent, resolution: DriftResolution) => void,
  ): Promise<{ left: Set<string>; leftReason: Map<string, DriftResolution> }> {
    const left = new Set<string>();
    const leftReason = new Map<string, DriftResolution>();
    const leave = (hostId: string, environment: string | null | undefined, reason: DriftResolution) => {
      left.add(hostId);
      if (environment && leftReason.get(environment) !== 'host-lost') leftReason.set(environment, reason);
    };
    for (const transition of transitions) {
      const { hostId, environment } = transition;
      if (transition.to === 'lost') {
        leave(hostId, environment, 'host-lost');
        if (environment !== null) {
          const key = lostKey(environment, hostId);
          if (!this.#open.has(key)) {
            toOpen.push({ key, kind: 'lost', environment, hostId, path: '', openedAt: now, hosts: [hostId] });
          }
        }
      } else if (transition.from === 'lost') {
        const open = environment === null ? undefined : this.#open.get(lostKey(environment, hostId));
        if (open) resolve(open, transition.to === 'retired' ? 'retired' : 'returned');
      }
      if (transition.to === 'retired') {
        if (transition.from !== 'lost') leave(hostId, environment, 'retired');
        await this.#store.retireHost(hostId, now, PRESENCE_RETIRED_BY);
      }
    }
    for (const hostId of retired) {
      const environment = this.#store.getHost(hostId)?.environment ?? null;
      leave(hostId, environment, 'retired');
      const open = environment === null ? undefined : this.#open.get(lostKey(environment, hostId));
      if (open) resolve(open, 'retired');
    }
    return { left, leftReason };
  }

  /** Open outlier events and held outlier groups of the given environments, as groups. */
  #outlierGroupsOf(environments: ReadonlySet<string>): Map<string, OutlierGroup[]> {
    const byEnvironment = new Map<string, OutlierGroup[]>();
    const add = (event: StoredDriftEvent | NewDriftEvent) => {
      if (event.kind !== 'outlier' || !environments.has(event.environment)) return;
      const hosts = event.hosts ?? (event.hostId !== undefined ? [event.hostId] : []);
      const group: OutlierGroup = {
        key: event.key,
        path: event.path,
        hosts: new Set(hosts),
        removed: [],
        touched: false,
        created: false,
      };
      if (event.expected !== undefined) group.expected = event.expected;
      if (event.actual !== undefined) group.actual = event.actual;
      let list = byEnvironment.get(event.environment);
      if (!list) {
        list = [];
        byEnvironment.set(event.environment, list);
      }
      list.push(group);
    };
    for (const event of this.#open.values()) add(event);
    for (const event of this.#held.values()) add(event);
    return byEnvironment;
  }

  /** `base`, or `base#n` when an open or held event already has that key. */
  #uniqueKey(base: string): string {
    let key = base;
    for (let n = 2; this.#open.has(key) || this.#held.has(key); n++) key = `${base}#${n}`;
    return key;
  }

  /**
   * A non-empty outlier group after regrouping: its values follow the cause path while all its
   * hosts share them; an emergency change of that value marks it. Open events are updated (no
   * notification), held ones refreshed, new ones held for the window.
   */
  #placeOutlierGroup(
    environment: string,
    group: OutlierGroup,
    event: StoredDriftEvent | undefined,
    now: number,
    updated: Map<string, StoredDriftEvent>,
    currentDiff: (hostId: string) => PathDifference | undefined,
  ): void {
    let shared: PathDifference | undefined;
    let agree = true;
    for (const host of group.hosts) {
      const diff = currentDiff(host);
      if (!diff || (shared && !(sameValue(shared.expected, diff.expected) && sameValue(shared.actual, diff.actual)))) {
        agree = false;
        break;
      }
      shared ??= diff;
    }
    const expected = agree && shared ? shared.expected : group.expected;
    const actual = agree && shared ? shared.actual : group.actual;
    const emergency = this.#emergencies.find(environment, group.path, actual);
    const { hosts } = hostList(group.hosts);
    const fields = <T extends StoredDriftEvent | NewDriftEvent>(base: T): T => {
      const next: T = { ...base, hosts };
      delete next.expected;
      delete next.actual;
      delete next.hostCount;
      if (expected !== undefined) next.expected = expected;
      if (actual !== undefined) next.actual = actual;
      if (emergency) {
        next.emergency = true;
        next.upstream = emergency.upstream;
      }
      return next;
    };
    if (event) {
      const next = fields(event);
      if (!sameEventState(event, next)) updated.set(event.key, next);
      return;
    }
    const held = this.#held.get(group.key);
    const base: NewDriftEvent = held ?? {
      key: group.key,
      kind: 'outlier',
      environment,
      path: group.path,
      openedAt: now,
    };
    const next = fields(base);
    next.hostId = hosts[0] as string;
    this.#held.set(group.key, next);
  }

  /** The exception that now justifies what a resolved outlier group's hosts still differ in, if any. */
  #justification(
    state: EnvironmentState,
    judge: DriftJudge,
    snapshots: ReadonlyMap<string, HostSnapshot>,
    group: OutlierGroup,
  ): { id: string; reason: string } | undefined {
    for (const hostId of group.removed) {
      const snapshot = snapshots.get(hostId);
      const diff = snapshot && findDifference(state.index, snapshot, group.path);
      if (diff?.class !== 'behavior') continue;
      const rule = judge.exceptionFor(group.path);
      if (rule) return { id: rule.id, reason: rule.reason };
    }
    return undefined;
  }

  async #evaluatePairs(pass: {
    now: number;
    at: Date;
    rules: ExceptionRule[];
    dirty: ReadonlySet<string>;
    withFacts: readonly string[];
    changedEnvs: ReadonlySet<string>;
    leftReason: ReadonlyMap<string, DriftResolution>;
    updated: Map<string, StoredDriftEvent>;
    resolve: (event: StoredDriftEvent, resolution: DriftResolution, exception?: { id: string; reason: string }) => void;
  }): Promise<void> {
    const { now, at, rules, dirty, withFacts, changedEnvs, leftReason, updated, resolve } = pass;
    const current = new Map<string, DriftItem>();
    /** Tied on a side: undecided, so such a path neither opens nor resolves an event. */
    const undecided = new Set<string>();
    const justified = new Map<string, { id: string; reason: string }>();
    let sliceStart = performance.now();
    const slice = async () => {
      if (performance.now() - sliceStart <= SLICE_MS) return;
      await yieldToEventLoop();
      sliceStart = performance.now();
    };
    for (const { from, to } of environmentPairs(withFacts, this.promotion, this.comparePairs)) {
      if (!dirty.has(from) && !dirty.has(to)) continue;
      await yieldToEventLoop();
      const fromState = this.#passState(from);
      const toState = this.#passState(to);
      const tied = new Set([...fromState.baseline.ties, ...toState.baseline.ties].map((tie) => tie.path));
      const comparison = compareFacts(fromState.baseline.facts, toState.baseline.facts, {
        classify: this.classify,
        exceptions: rules,
        fromEnvironment: from,
        toEnvironment: to,
        now: at,
        ...(this.#secretPolicy.length > 0 ? { secretPolicy: this.#secretPolicy } : {}),
      });
      for (const difference of comparison.differences) {
        const item: DriftItem = { kind: 'environment', environment: from, otherEnvironment: to, path: difference.path };
        const key = driftKey(item);
        if (tied.has(difference.path)) {
          undecided.add(key);
          continue;
        }
        if (difference.status === 'justified' && difference.exception) justified.set(key, difference.exception);
        if (difference.status !== 'drift' && difference.status !== 'secret-policy') continue;
        if (difference.from !== undefined) item.expected = difference.from;
        if (difference.to !== undefined) item.actual = difference.to;
        current.set(key, item);
      }
    }
    for (const [key, item] of current) {
      await slice();
      const to = item.otherEnvironment as string;
      const event = this.#open.get(key);
      const held = this.#held.get(key);
      const base = event ?? held;
      const fresh = base === undefined || changedEnvs.has(to) || changedEnvs.has(item.environment);
      const { hosts, hostCount } = fresh
        ? hostList(hostsWithValue(this.#passState(to), item.path, item.actual), MAX_EVENT_HOSTS)
        : { hosts: base.hosts ?? [], hostCount: base.hostCount };
      const emergency = this.#emergencies.find(to, item.path, item.actual);
      const next: NewDriftEvent = {
        ...(base ?? { key, kind: 'environment', environment: item.environment, otherEnvironment: to, path: item.path }),
        openedAt: base?.openedAt ?? now,
        hosts,
      };
      delete next.expected;
      delete next.actual;
      delete next.hostCount;
      if (item.expected !== undefined) next.expected = item.expected;
      if (item.actual !== undefined) next.actual = item.actual;
      if (hostCount !== undefined) next.hostCount = hostCount;
      if (emergency || base?.emergency) {
        next.emergency = true;
        next.upstream = emergency?.upstream ?? (base?.upstream as string);
      }
      if (event) {
        const stored = { ...event, ...next } as StoredDriftEvent;
        if (!sameEventState(event, stored)) updated.set(key, stored);
      } else this.#held.set(key, next);
    }
    const inScope = (event: StoredDriftEvent | NewDriftEvent) =>
      dirty.has(event.environment) || (event.otherEnvironment !== undefined && dirty.has(event.otherEnvironment));
    // Only the pair events of the changed scope (a snapshot: the map may change while yielding).
    for (const event of [...this.#open.values()]) {
      await slice();
      if (event.kind !== 'environment' || !inScope(event) || current.has(event.key) || undecided.has(event.key))
        continue;
      const why = leftReason.get(event.environment) ?? leftReason.get(event.otherEnvironment ?? '');
      const exception = justified.get(event.key);
      if (why) resolve(event, why);
      else if (exception) resolve(event, 'justified', exception);
      else resolve(event, 'fixed');
    }
    for (const [key, event] of [...this.#held]) {
      await slice();
      if (event.kind === 'environment' && inScope(event) && !current.has(key) && !undecided.has(key)) {
        this.#held.delete(key);
      }
    }
  }

  #publish({
    at,
    expired,
    updates,
    resolved,
    opened,
    resolvedDrift,
  }: {
    at: Date;
    expired: readonly ExceptionRecord[];
    updates: readonly StoredDriftEvent[];
    resolved: readonly Resolution[];
    opened: readonly StoredDriftEvent[];
    resolvedDrift: ReadonlyMap<string, HostDrift | undefined>;
  }): void {
    const iso = at.toISOString();
    const now = at.getTime();
    for (const record of expired) {
      const data = { ...toExceptionRule(record), createdAt: new Date(record.createdAt).toISOString() };
      this.events.emit({ type: 'exception.expired', at: iso, data });
    }
    for (const event of updates) this.#open.set(event.key, event);
    /** Per environment, the events its lost hosts' leaving resolved (named in its `host.lost` event). */
    const byLoss = new Map<string, string[]>();
    for (const { event, resolution, exception } of resolved) {
      this.#open.delete(event.key);
      if (resolution === 'host-lost') {
        for (const environment of [event.environment, event.otherEnvironment]) {
          if (environment === undefined) continue;
          let ids = byLoss.get(environment);
          if (!ids) {
            ids = [];
            byLoss.set(environment, ids);
          }
          ids.push(event.id);
        }
      }
      if (SILENT_RESOLUTIONS.has(resolution)) continue;
      const record = this.#record(
        { ...event, status: 'resolved', resolvedAt: now, resolution, ...(exception ? { exception } : {}) },
        resolvedDrift.get(event.key),
      );
      this.events.emit({ type: 'drift.resolved', at: iso, data: record });
    }
    for (const event of opened) {
      this.#open.set(event.key, event);
      if (event.kind === 'lost') {
        const record = this.#record(event);
        const ids = byLoss.get(event.environment);
        if (ids && ids.length > 0) {
          record.resolvedEvents = [...new Set(ids)];
          byLoss.delete(event.environment);
        }
        this.events.emit({ type: 'host.lost', at: iso, data: record });
        continue;
      }
      const memo = this.#memo.get(event.environment);
      const drift =
        event.kind === 'outlier' ? groupDrift(event.hosts ?? [], (host) => memo?.hosts.get(host)?.drift) : undefined;
      this.events.emit({ type: 'drift.opened', at: iso, data: this.#record(event, drift) });
    }
  }
}

export { lostKey, MAX_EVENT_HOSTS, outlierGroupKey, outlierKey, toDriftEventRecord } from './event-records.js';
