/**
 * What one drift pass found: the events to open, update and resolve, the held events and memos the
 * next pass starts from, and what the published records need. Evaluation fills it in; the pass
 * writes it in one transaction, then the ledger takes it in and it is announced.
 */
import type { NewDriftEvent, StoredDriftEvent } from '../store/fact-store.js';
import type { EnvironmentMemo } from './drift-ledger.js';
import type { DriftResolution } from './events.js';
import type { HostDrift } from './host-outliers.js';

/** The exception a `justified` resolution names. */
export interface ExceptionRef {
  id: string;
  reason: string;
}

/** A resolution the pass decided, with its reason. */
export interface Resolution {
  event: StoredDriftEvent;
  resolution: DriftResolution;
  exception?: ExceptionRef;
}

export class PassFindings {
  /** Events to open now: lost hosts (no window: the grace was the wait), held events whose window ended. */
  readonly open: NewDriftEvent[] = [];
  /** Open events whose values, hosts or emergency mark changed, by key. */
  readonly updated = new Map<string, StoredDriftEvent>();
  /**
   * The held events as the pass leaves them. A copy of the ledger's: those change only once the
   * pass is written, so a failed pass keeps the previous ones (with their `openedAt`) for its retry.
   */
  readonly held: Map<string, NewDriftEvent>;
  /** Per environment, the memo the next pass starts from (undefined: forget it). */
  readonly memos = new Map<string, EnvironmentMemo | undefined>();
  /** Drift of resolved outlier events (from the previous memo), for the published records. */
  readonly resolvedDrift = new Map<string, HostDrift | undefined>();
  /** Environments where some host's facts changed (`factsVersion`; pair event hosts are recomputed there). */
  readonly changedEnvironments = new Set<string>();
  readonly #resolutions = new Map<string, Resolution>();

  constructor(held: ReadonlyMap<string, NewDriftEvent>) {
    this.held = new Map(held);
  }

  /** Resolves an open event; the first reason a pass gives an event is the one it keeps. */
  resolve(event: StoredDriftEvent, resolution: DriftResolution, exception?: ExceptionRef): void {
    if (this.#resolutions.has(event.key)) return;
    this.#resolutions.set(event.key, { event, resolution, ...(exception ? { exception } : {}) });
  }

  resolved(): Resolution[] {
    return [...this.#resolutions.values()];
  }

  /** Updates of events the pass does not resolve (a resolution supersedes an update). */
  updates(): StoredDriftEvent[] {
    return [...this.updated.values()].filter((event) => !this.#resolutions.has(event.key));
  }
}
