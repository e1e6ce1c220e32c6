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
 */
import {
  type Classifier,
  canonicalValue,
  categoryOf,
  compareFacts,
  createClassifier,
  createExceptionMatcher,
  type ExceptionRule,
  type FactValue,
  factValuesEqual,
} from '@envparity/shared';
import type { Logger } from 'pino';
import type { ExceptionRecord, FactStore, NewDriftEvent, StoredDriftEvent, StoreEvent } from '../store/fact-store.js';
import type { CategoryBlob } from './baseline.js';
import { type EmergencyCandidate, emergencyCandidates, emergencyKey } from './emergency.js';
import { environmentPairs } from './environment-pairs.js';
import { type EnvironmentState, EnvironmentStates } from './environment-states.js';
import { type DriftEventRecord, DriftEvents, type EmergencyChangeData } from './events.js';
import { isExceptionExpired, toExceptionRule } from './exception-rules.js';
import { DriftJudge, findDrift, type HostDrift, hasDrift, hostDrift } from './host-outliers.js';
import { HostSnapshots, type Presence } from './host-snapshots.js';
import { type JudgedOutlier, judgeOutliers } from './judge-outliers.js';
import type { Outlier } from './outliers.js';
import { type DriftItem, driftKey, reconcileDrift } from './reconcile.js';

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

/** Identity of a host's outlier event: one open event per host off its baseline. */
export function outlierKey(environment: string, hostId: string): string {
  return driftKey({ kind: 'outlier', environment, hostId, path: '' });
}

/** What the last pass saw of a host of an environment (only hosts the baseline was computed from). */
interface HostEntry {
  categories: ReadonlyMap<string, CategoryBlob>;
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
  events?: DriftEvents;
  debounceMs?: number;
  exceptionCheckMs?: number;
  now?: () => number;
  logger?: Pick<Logger, 'error' | 'warn' | 'info' | 'debug'>;
}

/**
 * A stored event as the API and the event emitter show it (ISO times). `drift` (an outlier event's
 * host, as the engine last saw it) adds `count` and `paths`.
 */
export function toDriftEventRecord(event: StoredDriftEvent, drift?: HostDrift): DriftEventRecord {
  const record: DriftEventRecord = {
    id: event.id,
    kind: event.kind,
    environment: event.environment,
    path: event.path,
    status: event.status,
    openedAt: new Date(event.openedAt).toISOString(),
  };
  if (event.otherEnvironment !== undefined) record.otherEnvironment = event.otherEnvironment;
  if (event.hostId !== undefined) record.hostId = event.hostId;
  if (event.expected !== undefined) record.expected = event.expected;
  if (event.actual !== undefined) record.actual = event.actual;
  if (event.resolvedAt !== null) record.resolvedAt = new Date(event.resolvedAt).toISOString();
  if (event.kind === 'emergency') record.emergency = true;
  if (event.upstream !== undefined) record.upstream = event.upstream;
  if (event.seq !== undefined) record.seq = event.seq;
  if (drift !== undefined && event.kind === 'outlier') {
    record.count = drift.count;
    record.paths = [...drift.paths];
  }
  return record;
}

function sameValue(a: FactValue | undefined, b: FactValue | undefined): boolean {
  return a === undefined || b === undefined ? a === b : factValuesEqual(a, b);
}

/** Whether any host of the state holds `path` = `value`; each distinct category blob is looked at once. */
function stateHasValue(state: EnvironmentState, path: string, value: FactValue): boolean {
  const category = categoryOf(path);
  const seen = new Set<string>();
  for (const host of state.hosts) {
    const blob = host.categories.get(category);
    if (!blob || seen.has(blob.hash)) continue;
    seen.add(blob.hash);
    if (Object.hasOwn(blob.facts, path) && factValuesEqual(blob.facts[path], value)) return true;
  }
  return false;
}

export class DriftEngine {
  readonly events: DriftEvents;
  readonly states: EnvironmentStates;
  readonly promotion: readonly string[];
  readonly classify: Classifier;
  readonly #store: FactStore;
  readonly #presence: PresenceSource;
  readonly #debounceMs: number;
  readonly #exceptionCheckMs: number;
  readonly #now: () => number;
  readonly #logger: DriftEngineOptions['logger'];
  /** Open events by key, mirrored from the store. */
  readonly #open = new Map<string, StoredDriftEvent>();
  #dirty = new Set<string>();
  #candidates: EmergencyCandidate[] = [];
  #timer: NodeJS.Timeout | undefined;
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
    this.#logger = options.logger;
    this.events =
      options.events ??
      new DriftEvents((error, event) =>
        this.#logger?.error({ err: { message: (error as Error)?.message }, type: event.type }, 'drift listener failed'),
      );
    this.#debounceMs = options.debounceMs ?? DEFAULT_DRIFT_DEBOUNCE_MS;
    this.#exceptionCheckMs = options.exceptionCheckMs ?? DEFAULT_EXCEPTION_CHECK_MS;
    this.#now = options.now ?? Date.now;
    this.states = new EnvironmentStates({
      store: this.#store,
      snapshots: new HostSnapshots(this.#store, this.#presence),
      classify: this.classify,
    });
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
    this.#timer = undefined;
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
    await this.#running;
  }

  /** Commits buffered reports and runs every pending evaluation now (tests, shutdown, reads after writes). */
  async settle(): Promise<void> {
    await this.#store.flush();
    for (let pass = 0; pass < MAX_SETTLE_PASSES; pass++) {
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = undefined;
      await this.#run();
      if (this.#dirty.size === 0 && this.#candidates.length === 0 && this.#findExpired().length === 0) return;
    }
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

  /** A stored event as the API shows it; an open outlier event gains its host's current `count` and `paths`. */
  eventRecord(event: StoredDriftEvent): DriftEventRecord {
    if (event.kind !== 'outlier' || event.status !== 'open' || event.hostId === undefined) {
      return toDriftEventRecord(event);
    }
    const memo = this.#memo.get(event.environment);
    const drift = this.#open.get(event.key)?.id === event.id ? memo?.hosts.get(event.hostId)?.drift : undefined;
    return toDriftEventRecord(event, drift);
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
        this.states.invalidateMembership();
        this.#markDirty(event.environment, event.previousEnvironment);
        return;
      case 'host-updated':
        if (event.environment === event.previousEnvironment) return;
        this.states.invalidateMembership();
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
  #run(): Promise<void> {
    const next = (this.#running ?? Promise.resolve())
      .then(() => this.#pass())
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

  async #pass(): Promise<void> {
    await this.#loaded;
    if (this.#stopped) return;
    const now = this.#now();
    const expired = this.#findExpired(now);
    for (const record of expired) for (const environment of record.environments) this.#dirty.add(environment);
    const dirty = this.#dirty;
    const candidates = this.#candidates;
    this.#dirty = new Set();
    this.#candidates = [];
    if (dirty.size === 0 && candidates.length === 0 && expired.length === 0) return;
    this.#changesSincePass = 0;
    const started = performance.now();
    try {
      await this.#evaluate(now, dirty, candidates, expired);
      this.#lastPassMs = performance.now() - started;
      this.#lastPassEnd = performance.now();
    } catch (error) {
      // Nothing was published: the same work is retried later (expiries are found again).
      for (const environment of dirty) this.#dirty.add(environment);
      this.#candidates.unshift(...candidates);
      this.#schedule(RETRY_AFTER_FAILURE_MS);
      throw error;
    }
  }

  async #evaluate(
    now: number,
    dirty: ReadonlySet<string>,
    candidates: readonly EmergencyCandidate[],
    expired: readonly ExceptionRecord[],
  ): Promise<void> {
    const at = new Date(now);
    const rules = this.exceptionRules();
    const toOpen: NewDriftEvent[] = [];
    const opening = new Set<string>();

    // Emergency changes: one history query per distinct (upstream, path, value) of the pass.
    const upstreamHad = new Map<string, Promise<boolean>>();
    const hadValue = (upstream: string, path: string, value: FactValue): Promise<boolean> => {
      const key = `${upstream}\u0000${path}\u0000${canonicalValue(value)}`;
      let answer = upstreamHad.get(key);
      if (!answer) {
        answer = stateHasValue(this.states.get(upstream), path, value)
          ? Promise.resolve(true)
          : this.#store.environmentHadValue(upstream, path, value);
        upstreamHad.set(key, answer);
      }
      return answer;
    };
    const known = new Set(this.#store.listEnvironments());
    const flagged: { candidate: EmergencyCandidate; key: string }[] = [];
    for (const candidate of candidates) {
      // An upstream no host ever declared is not in use yet: nothing can be promoted through it.
      if (!known.has(candidate.upstream)) continue;
      const justified = createExceptionMatcher(rules, candidate.upstream, candidate.environment, at)(candidate.path);
      if (justified) continue;
      if (await hadValue(candidate.upstream, candidate.path, candidate.value)) continue;
      await this.#store.markEmergencyChange(candidate.hostId, candidate.seq, candidate.path);
      const key = emergencyKey({ ...candidate });
      flagged.push({ candidate, key });
      if (this.#open.has(key) || opening.has(key)) continue;
      opening.add(key);
      const event: NewDriftEvent = {
        key,
        kind: 'emergency',
        environment: candidate.environment,
        hostId: candidate.hostId,
        path: candidate.path,
        actual: candidate.value,
        openedAt: now,
        upstream: candidate.upstream,
        seq: candidate.seq,
      };
      if (candidate.previous !== undefined) event.expected = candidate.previous;
      toOpen.push(event);
    }

    // Current differences of the dirty scope.
    const withFacts = this.states.environmentsWithHosts().filter((env) => this.states.get(env).hosts.length > 0);
    const hasFacts = new Set(withFacts);
    const resolvedKeys = new Set<string>();
    const updated: StoredDriftEvent[] = [];
    /** New memos, committed once the pass is written (a failed pass leaves the old ones). */
    const memos = new Map<string, EnvironmentMemo | undefined>();
    /** The hosts' drift for the events this pass opens, resolves or updates (for the published records). */
    const driftOf = new Map<string, HostDrift | undefined>();
    const openOutliers = new Map<string, StoredDriftEvent[]>();
    for (const event of this.#open.values()) {
      if (event.kind !== 'outlier' || !dirty.has(event.environment)) continue;
      let list = openOutliers.get(event.environment);
      if (!list) {
        list = [];
        openOutliers.set(event.environment, list);
      }
      list.push(event);
    }
    for (const environment of dirty) {
      await yieldToEventLoop();
      const previous = this.#memo.get(environment);
      if (!hasFacts.has(environment)) {
        for (const event of openOutliers.get(environment) ?? []) {
          resolvedKeys.add(event.key);
          if (event.hostId !== undefined) driftOf.set(event.key, previous?.hosts.get(event.hostId)?.drift);
        }
        memos.set(environment, undefined);
        continue;
      }
      const state = this.states.get(environment);
      const judge = new DriftJudge(environment, rules, at);
      // Everything is looked at again when the baseline or the exceptions changed; else only changed hosts.
      const full = previous === undefined || previous.version !== state.version || previous.judgeKey !== judge.key;
      const hosts = new Map<string, HostEntry>();
      const snapshots = new Map<string, (typeof state.baselineHosts)[number]>();
      const changed: string[] = [];
      let sliceStart = performance.now();
      for (const host of state.baselineHosts) {
        snapshots.set(host.id, host);
        const before = previous?.hosts.get(host.id);
        if (!full && before !== undefined && before.categories === host.categories) {
          hosts.set(host.id, before);
          continue;
        }
        hosts.set(host.id, { categories: host.categories, drift: hostDrift(state.index, host, judge) });
        changed.push(host.id);
        if (performance.now() - sliceStart > SLICE_MS) {
          await yieldToEventLoop();
          sliceStart = performance.now();
        }
      }
      if (previous) for (const id of previous.hosts.keys()) if (!hosts.has(id)) changed.push(id);
      memos.set(environment, { version: state.version, judgeKey: judge.key, hosts });
      const reconcileHost = (hostId: string) => {
        const key = outlierKey(environment, hostId);
        const drift = hosts.get(hostId)?.drift;
        const open = this.#open.get(key);
        if (drift === undefined) {
          if (open) {
            resolvedKeys.add(key);
            driftOf.set(key, previous?.hosts.get(hostId)?.drift);
          }
          return;
        }
        driftOf.set(key, drift);
        if (!open) {
          if (opening.has(key)) return;
          opening.add(key);
          const event: NewDriftEvent = {
            key,
            kind: 'outlier',
            environment,
            hostId,
            path: drift.first.path,
            openedAt: now,
          };
          if (drift.first.expected !== undefined) event.expected = drift.first.expected;
          if (drift.first.actual !== undefined) event.actual = drift.first.actual;
          toOpen.push(event);
          return;
        }
        // The event keeps the path it opened with; its values follow that path while it drifts.
        const snapshot = snapshots.get(hostId);
        const current = snapshot && findDrift(state.index, snapshot, judge, open.path);
        if (!current || (sameValue(open.expected, current.expected) && sameValue(open.actual, current.actual))) return;
        const next: StoredDriftEvent = { ...open };
        delete next.expected;
        delete next.actual;
        if (current.expected !== undefined) next.expected = current.expected;
        if (current.actual !== undefined) next.actual = current.actual;
        updated.push(next);
      };
      if (full) {
        // Also resolves events of hosts gone from the environment and events of an older shape.
        for (const event of openOutliers.get(environment) ?? []) {
          const hostId = event.hostId;
          if (hostId !== undefined && hosts.has(hostId) && event.key === outlierKey(environment, hostId)) continue;
          resolvedKeys.add(event.key);
          if (hostId !== undefined) driftOf.set(event.key, previous?.hosts.get(hostId)?.drift);
        }
        for (const hostId of hosts.keys()) reconcileHost(hostId);
      } else {
        for (const hostId of changed) reconcileHost(hostId);
      }
    }

    const current: DriftItem[] = [];
    for (const { from, to } of environmentPairs(withFacts, this.promotion)) {
      if (!dirty.has(from) && !dirty.has(to)) continue;
      const comparison = compareFacts(this.states.get(from).baseline.facts, this.states.get(to).baseline.facts, {
        classify: this.classify,
        exceptions: rules,
        fromEnvironment: from,
        toEnvironment: to,
        now: at,
      });
      for (const difference of comparison.differences) {
        if (difference.status !== 'drift') continue;
        const item: DriftItem = { kind: 'environment', environment: from, otherEnvironment: to, path: difference.path };
        if (difference.from !== undefined) item.expected = difference.from;
        if (difference.to !== undefined) item.actual = difference.to;
        current.push(item);
      }
    }
    const openItems = [...this.#open.values()]
      .filter((event) => event.kind === 'environment')
      .map((event) => ({ key: event.key, item: event as DriftItem }));
    const inScope = (item: DriftItem) =>
      dirty.has(item.environment) || (item.otherEnvironment !== undefined && dirty.has(item.otherEnvironment));
    const reconciled = reconcileDrift(openItems, current, inScope);
    for (const item of reconciled.opened) {
      const event: NewDriftEvent = {
        key: driftKey(item),
        kind: item.kind,
        environment: item.environment,
        path: item.path,
        openedAt: now,
      };
      if (item.otherEnvironment !== undefined) event.otherEnvironment = item.otherEnvironment;
      if (item.expected !== undefined) event.expected = item.expected;
      if (item.actual !== undefined) event.actual = item.actual;
      toOpen.push(event);
    }
    for (const key of reconciled.resolved) resolvedKeys.add(key);
    // Open events whose difference holds with other values: same event, new values.
    for (const item of current) {
      const open = this.#open.get(driftKey(item));
      if (!open || (sameValue(open.expected, item.expected) && sameValue(open.actual, item.actual))) continue;
      const next: StoredDriftEvent = { ...open };
      delete next.expected;
      delete next.actual;
      if (item.expected !== undefined) next.expected = item.expected;
      if (item.actual !== undefined) next.actual = item.actual;
      updated.push(next);
    }

    // Emergency events end when the host no longer has the value or the upstream caught up.
    for (const event of this.#open.values()) {
      if (event.kind !== 'emergency' || event.upstream === undefined || event.actual === undefined) continue;
      if (!dirty.has(event.environment) && !dirty.has(event.upstream)) continue;
      const host = event.hostId === undefined ? undefined : this.#store.getHost(event.hostId);
      const hash = host?.categories.get(categoryOf(event.path));
      const facts = hash === undefined ? undefined : this.#store.getBlob(hash);
      const still =
        host !== undefined &&
        host.environment === event.environment &&
        facts !== undefined &&
        Object.hasOwn(facts, event.path) &&
        factValuesEqual(facts[event.path], event.actual);
      if (!still || (await hadValue(event.upstream, event.path, event.actual))) resolvedKeys.add(event.key);
    }

    const resolved = [...resolvedKeys].map((key) => this.#open.get(key)).filter((e) => e !== undefined);
    const opened =
      toOpen.length === 0 && resolved.length === 0 && updated.length === 0
        ? []
        : await this.#store.writeDriftEvents({
            open: toOpen,
            resolve: resolved.map((event) => ({ id: event.id, at: now })),
            update: updated.map(({ id, expected, actual }) => ({
              id,
              ...(expected !== undefined ? { expected } : {}),
              ...(actual !== undefined ? { actual } : {}),
            })),
          });
    for (const record of expired) await this.#store.markExceptionExpired(record.id, now);
    for (const [environment, memo] of memos) {
      if (memo) this.#memo.set(environment, memo);
      else this.#memo.delete(environment);
    }
    const iso = at.toISOString();
    for (const record of expired) {
      const data = { ...toExceptionRule(record), createdAt: new Date(record.createdAt).toISOString() };
      this.events.emit({ type: 'exception.expired', at: iso, data });
    }
    for (const event of updated) this.#open.set(event.key, event);
    for (const event of resolved) {
      this.#open.delete(event.key);
      const record = toDriftEventRecord({ ...event, status: 'resolved', resolvedAt: now }, driftOf.get(event.key));
      this.events.emit({ type: 'drift.resolved', at: iso, data: record });
    }
    for (const event of opened) {
      this.#open.set(event.key, event);
      this.events.emit({ type: 'drift.opened', at: iso, data: toDriftEventRecord(event, driftOf.get(event.key)) });
    }
    this.#publishEmergencies(flagged, iso);
    this.#logger?.debug(
      { environments: [...dirty], opened: opened.length, resolved: resolved.length, updated: updated.length },
      'drift evaluated',
    );
  }

  #publishEmergencies(flagged: { candidate: EmergencyCandidate; key: string }[], at: string): void {
    for (const { candidate, key } of flagged) {
      const event = this.#open.get(key);
      const data: EmergencyChangeData = {
        id: event?.id ?? '',
        hostId: candidate.hostId,
        environment: candidate.environment,
        upstream: candidate.upstream,
        path: candidate.path,
        value: candidate.value,
        changedAt: new Date(candidate.at).toISOString(),
      };
      if (candidate.previous !== undefined) data.previous = candidate.previous;
      this.events.emit({ type: 'emergency.change', at, data });
    }
  }
}
