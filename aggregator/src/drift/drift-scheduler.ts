/**
 * When drift passes run, and with what. Changes only mark environments dirty (and queue emergency
 * candidates and retired hosts); passes are coalesced: at least the debounce after a change, at
 * least 2 s apart (8 s while ingest is busy), never closer than 4x the last pass's duration, so a
 * burst of reports costs one pass and the engine keeps to a fraction of a core. One pass runs at a
 * time. A wake timer runs one when a presence transition or a held event's window is due, an
 * interval when an exception expires. A pass that fails gives its work back and is retried.
 */
import type { Logger } from 'pino';
import type { ExceptionRecord, NewDriftEvent } from '../store/fact-store.js';
import type { EmergencyCandidate } from './emergency.js';
import type { PresenceTracker, PresenceTransition } from './presence-tracker.js';

/** A settle() that keeps finding new work after this many passes gives up (the work stays queued). */
const MAX_SETTLE_PASSES = 10;
/** After a failed pass (e.g. the disk is full), its work is retried after this long. */
const RETRY_AFTER_FAILURE_MS = 5000;
/** Passes are at least this many debounces apart (2 s by default)... */
const PASS_GAP_DEBOUNCES = 8;
/** ...or this many while ingest is busy (8 s by default)... */
const BUSY_GAP_DEBOUNCES = 32;
/** ...busy meaning at least this many host changes since the last pass... */
const BUSY_CHANGES = 200;
/** ...and never closer than this many times the last pass's duration (the engine keeps to ~20% of a core). */
const PASS_DUTY_FACTOR = 4;
/** The engine re-checks presence and held events at least this often while some are due later. */
const MAX_WAKE_MS = 60_000;

/** What one pass has to look at. */
export interface PassWork {
  now: number;
  /** Environments to evaluate again; the pass may add those its presence changes touch. */
  dirty: Set<string>;
  candidates: readonly EmergencyCandidate[];
  /** Exceptions whose expiry passed and was not recorded yet. */
  expired: readonly ExceptionRecord[];
  transitions: readonly PresenceTransition[];
  /** Hosts the store retired (DELETE /hosts/:id) since the last pass: they left without being fixed. */
  retired: ReadonlySet<string>;
  /** Held events open now, whatever their window (settle()). */
  endWindow: boolean;
}

export interface DriftSchedulerOptions {
  /** Quiet time after a change before a pass. */
  debounceMs: number;
  /** How often exception expiries are looked for. */
  exceptionCheckMs: number;
  /** How long a new event is held: its window's end is due work. */
  groupWindowMs: number;
  now: () => number;
  presence: Pick<PresenceTracker, 'refresh' | 'nextDue'>;
  /** The events held for the grouping window (the ledger's). */
  held: () => ReadonlyMap<string, NewDriftEvent>;
  /** Exceptions whose expiry passed at `now` and was not recorded yet. */
  findExpired: (now: number) => ExceptionRecord[];
  /** A presence transition changes who counts in an environment's baseline: its cached state goes. */
  invalidate: (environment: string | null) => void;
  /** Runs one pass over `work`; throws when it failed (nothing of it was published). */
  runPass: (work: PassWork) => Promise<void>;
  /** Commits buffered reports (settle()). */
  flush: () => Promise<void>;
  logger?: Pick<Logger, 'error'> | undefined;
}

export class DriftScheduler {
  readonly #options: DriftSchedulerOptions;
  #dirty = new Set<string>();
  #candidates: EmergencyCandidate[] = [];
  #retired = new Set<string>();
  /** Presence transitions of a pass that failed, applied by the next one (the tracker has moved on already). */
  readonly #failedTransitions: PresenceTransition[] = [];
  #timer: NodeJS.Timeout | undefined;
  #wakeTimer: NodeJS.Timeout | undefined;
  #expiryTimer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  /** Passes wait for this (the open events loaded at start). */
  #loaded: Promise<void> | undefined;
  /** Coalescing: when the last pass ended and how long it took (real time), changes since. */
  #lastPassEnd = Number.NEGATIVE_INFINITY;
  #lastPassMs = 0;
  #changesSincePass = 0;
  #stopped = false;

  constructor(options: DriftSchedulerOptions) {
    this.#options = options;
  }

  /** Starts the periodic expiry check; passes wait for `loaded`. */
  start(loaded: Promise<void>): void {
    this.#loaded = loaded;
    this.#expiryTimer = setInterval(() => {
      if (this.#options.findExpired(this.#options.now()).length > 0) void this.#run();
    }, this.#options.exceptionCheckMs);
    this.#expiryTimer.unref();
  }

  /** Stops the timers; waits for a pass in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#expiryTimer) clearInterval(this.#expiryTimer);
    if (this.#wakeTimer) clearTimeout(this.#wakeTimer);
    this.#timer = undefined;
    this.#wakeTimer = undefined;
    await this.#running;
  }

  /** These environments changed: a pass is scheduled for them. */
  markDirty(...environments: (string | null | undefined)[]): void {
    let any = false;
    for (const environment of environments) {
      if (environment === null || environment === undefined) continue;
      this.#dirty.add(environment);
      any = true;
    }
    if (any) this.#schedule();
  }

  /** Schedules a pass (coalesced like any other) even when nothing is dirty: presence and windows get looked at. */
  requestPass(): void {
    this.#schedule();
  }

  /** Changes the next pass checks for emergency changes. */
  addCandidates(candidates: readonly EmergencyCandidate[]): void {
    this.#candidates.push(...candidates);
  }

  /** A host the store retired: the next pass resolves what it leaves behind. */
  noteRetired(hostId: string): void {
    this.#retired.add(hostId);
  }

  /** A host enrolled or reported changes: while many do, passes are further apart. */
  noteHostChange(): void {
    this.#changesSincePass++;
  }

  /** Runs a pass now if an exception expired since the last one (reads that judge with exceptions). */
  async checkExpired(): Promise<void> {
    if (this.#options.findExpired(this.#options.now()).length > 0) await this.#run();
  }

  /** Commits buffered reports and runs passes until no work is left (or MAX_SETTLE_PASSES). */
  async settle({ endWindow }: { endWindow: boolean }): Promise<void> {
    await this.#options.flush();
    for (let pass = 0; pass < MAX_SETTLE_PASSES; pass++) {
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = undefined;
      await this.#run(endWindow);
      if (this.#idle(endWindow)) return;
    }
  }

  #idle(endWindow: boolean): boolean {
    const now = this.#options.now();
    return (
      this.#dirty.size === 0 &&
      this.#candidates.length === 0 &&
      this.#options.findExpired(now).length === 0 &&
      this.#retired.size === 0 &&
      !this.#due(now) &&
      (!endWindow || this.#options.held().size === 0)
    );
  }

  /** Whether presence transitions or held events are due by `now`. */
  #due(now: number): boolean {
    if (this.#options.presence.nextDue() <= now) return true;
    const windowMs = this.#options.groupWindowMs;
    for (const event of this.#options.held().values()) if (event.openedAt + windowMs <= now) return true;
    return false;
  }

  /** Wakes the engine when the next presence transition or held event is due (real time, capped). */
  #scheduleWake(): void {
    if (this.#stopped) return;
    if (this.#wakeTimer) clearTimeout(this.#wakeTimer);
    this.#wakeTimer = undefined;
    let next = this.#options.presence.nextDue();
    for (const event of this.#options.held().values())
      next = Math.min(next, event.openedAt + this.#options.groupWindowMs);
    if (!Number.isFinite(next)) return;
    const delay = Math.min(MAX_WAKE_MS, Math.max(50, next - this.#options.now() + 5));
    this.#wakeTimer = setTimeout(() => {
      this.#wakeTimer = undefined;
      if (this.#due(this.#options.now())) void this.#run();
      else this.#scheduleWake();
    }, delay);
    this.#wakeTimer.unref();
  }

  /** How long passes stay apart: longer while ingest is busy, and proportional to the last pass's duration. */
  #passGap(): number {
    const busy = this.#changesSincePass >= BUSY_CHANGES;
    const debounces = busy ? BUSY_GAP_DEBOUNCES : PASS_GAP_DEBOUNCES;
    return Math.max(this.#options.debounceMs * debounces, this.#lastPassMs * PASS_DUTY_FACTOR);
  }

  /** Coalesces passes: at least the debounce after the change, and at least the gap after the last pass. */
  #schedule(delayMs = this.#options.debounceMs): void {
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
        this.#options.logger?.error({ err: { message: (error as Error)?.message } }, 'drift evaluation failed');
      });
    this.#running = next;
    void next.finally(() => {
      if (this.#running === next) this.#running = undefined;
    });
    return next;
  }

  async #pass(endWindow: boolean): Promise<void> {
    await this.#loaded;
    if (this.#stopped) return;
    const work = this.#takeWork(this.#options.now(), endWindow);
    if (!work) {
      this.#scheduleWake();
      return;
    }
    this.#changesSincePass = 0;
    const started = performance.now();
    try {
      await this.#options.runPass(work);
      this.#lastPassMs = performance.now() - started;
      this.#lastPassEnd = performance.now();
    } catch (error) {
      // Nothing was published: the same work is retried later (expiries are found again).
      for (const environment of work.dirty) this.#dirty.add(environment);
      for (const hostId of work.retired) this.#retired.add(hostId);
      this.#failedTransitions.unshift(...work.transitions);
      this.#candidates.unshift(...work.candidates);
      this.#schedule(RETRY_AFTER_FAILURE_MS);
      throw error;
    } finally {
      this.#scheduleWake();
    }
  }

  /** Takes the queued work, with the expiries and presence transitions due now; undefined when there is none. */
  #takeWork(now: number, endWindow: boolean): PassWork | undefined {
    const expired = this.#options.findExpired(now);
    for (const record of expired) for (const environment of record.environments) this.#dirty.add(environment);
    const transitions = [...this.#failedTransitions.splice(0), ...this.#options.presence.refresh(now)];
    for (const { environment } of transitions) {
      this.#options.invalidate(environment);
      if (environment !== null) this.#dirty.add(environment);
    }
    const windowMs = this.#options.groupWindowMs;
    const heldDue = [...this.#options.held().values()].some((e) => endWindow || e.openedAt + windowMs <= now);
    const work: PassWork = {
      now,
      dirty: this.#dirty,
      candidates: this.#candidates,
      expired,
      transitions,
      retired: this.#retired,
      endWindow,
    };
    this.#dirty = new Set();
    this.#candidates = [];
    this.#retired = new Set();
    const idle =
      work.dirty.size === 0 &&
      work.candidates.length === 0 &&
      expired.length === 0 &&
      !heldDue &&
      work.retired.size === 0;
    return idle ? undefined : work;
  }
}
