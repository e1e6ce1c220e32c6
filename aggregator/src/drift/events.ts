/**
 * The drift engine's outward events. Webhooks (aggregator/src/webhooks/), logs and tests subscribe
 * to one emitter instead of polling the store, so every consumer sees the same envelope:
 * `{ type, at, data }` with `at` an ISO timestamp of when the engine observed it.
 */
import type { ExceptionRule, FactValue } from '@envparity/shared';
import type { DriftKind } from './reconcile.js';

export const DRIFT_EVENT_TYPES = ['drift.opened', 'drift.resolved', 'emergency.change', 'exception.expired'] as const;
export type DriftEventType = (typeof DRIFT_EVENT_TYPES)[number];

/** Kinds of rows in GET /api/v1/drift: the reconciled differences plus flagged emergency changes. */
export type DriftEventKind = DriftKind | 'emergency';

/** A persisted drift event as GET /api/v1/drift lists it (and as drift.opened/resolved carry it). */
export interface DriftEventRecord {
  id: string;
  kind: DriftEventKind;
  /** The host's environment (outlier, emergency), or the `from` environment of a pair. */
  environment: string;
  /** The `to` environment of an environment pair (kind `environment`). */
  otherEnvironment?: string;
  hostId?: string;
  path: string;
  /** Baseline value (outlier), `from` value (environment pair). Absent when the path is missing there. */
  expected?: FactValue;
  /** Host value (outlier), `to` value (environment pair), the new value (emergency). */
  actual?: FactValue;
  status: 'open' | 'resolved';
  openedAt: string;
  resolvedAt?: string;
  /** Set on kind `emergency`: the change bypassed the promotion order. */
  emergency?: boolean;
  /** The upstream environment that never had the value (kind `emergency`). */
  upstream?: string;
  /** The report seq that carried the emergency change (kind `emergency`). */
  seq?: number;
  /**
   * Kind `outlier` (one event per host): how many behavior paths of the host are off the baseline,
   * and the first of them (at most 10, sorted). `path`/`expected`/`actual` are the first such path
   * when the event opened, with its values while it stays off. Set on published events and on open
   * events listed by GET /api/v1/drift.
   */
  count?: number;
  paths?: string[];
}

/** A change that reached an environment before its upstream ever had the value. */
export interface EmergencyChangeData {
  /** The id of the `emergency` drift event recorded for it. */
  id: string;
  hostId: string;
  environment: string;
  upstream: string;
  path: string;
  /** The new value; absent when the change removed the path. */
  value?: FactValue;
  /** The value before the change; absent when the path is new. */
  previous?: FactValue;
  /** When the agent observed the change (the report's `observedAt`). */
  changedAt: string;
}

/** An exception whose expiry has passed: its differences are drift again from now on. */
export type ExceptionExpiredData = ExceptionRule & { createdAt?: string };

export interface DriftEventDataMap {
  'drift.opened': DriftEventRecord;
  'drift.resolved': DriftEventRecord;
  'emergency.change': EmergencyChangeData;
  'exception.expired': ExceptionExpiredData;
}

/** The envelope every subscriber receives; `type` discriminates `data`. */
export type DriftEvent = {
  [T in DriftEventType]: { type: T; at: string; data: DriftEventDataMap[T] };
}[DriftEventType];

export type DriftEventListener = (event: DriftEvent) => void;

/**
 * Synchronous fan-out of drift events. A throwing listener is reported through `onError` and never
 * stops the others or the engine: a broken webhook must not lose drift state.
 */
export class DriftEvents {
  readonly #listeners = new Set<DriftEventListener>();

  constructor(private readonly onError: (error: unknown, event: DriftEvent) => void = () => {}) {}

  /** Subscribes; the returned function unsubscribes. */
  on(listener: DriftEventListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  emit(event: DriftEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.onError(error, event);
      }
    }
  }
}
