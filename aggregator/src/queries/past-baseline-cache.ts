/**
 * Baselines at past instants, kept once rebuilt. The past does not move on its own: a baseline at T
 * depends on which hosts the environment had at T and on each one's changes at or before T. It is
 * dropped when the store says one of those moved:
 * - a host joined, left, moved or was retired (`host-enrolled`, `host-updated`) in the environment;
 * - a report of one of its hosts carried a change observed at or before T (an agent's late spool);
 * - some host's history start moved (`FactStore.historyVersion()`: a first report, the per-host
 *   quota, retention).
 * Changes after T, the fleet's normal traffic, leave it valid: an incident review asking for the
 * same instant again and again (filters, reloads, the other side of a compare) rebuilds it once.
 */
import type { StoreEvent } from '../store/fact-store.js';

/** A value being rebuilt (PastBaselineCache.begin). */
export interface Building {
  readonly environment: string;
  readonly at: number;
  readonly historyVersion: number;
  dropped: boolean;
}

interface Entry<T> {
  environment: string;
  at: number;
  historyVersion: number;
  value: T;
}

/** Instants kept at most (oldest dropped first): a few incidents' worth, a few MB each at 10,000 hosts. */
export const PAST_BASELINES_KEPT = 16;

export class PastBaselineCache<T> {
  readonly #entries = new Map<string, Entry<T>>();
  readonly #max: number;
  /** Values being rebuilt: an event that would drop one marks it, and it is not kept. */
  readonly #building = new Set<Building>();

  constructor(max = PAST_BASELINES_KEPT) {
    this.#max = max;
  }

  /** The kept value for (environment, at), if nothing it depends on moved since (`historyVersion` is the store's now). */
  get(environment: string, at: number, historyVersion: number): T | undefined {
    const key = keyOf(environment, at);
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.historyVersion !== historyVersion) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Before rebuilding a value: `set` keeps it only if no event that would drop it came meanwhile. */
  begin(environment: string, at: number, historyVersion: number): Building {
    const building: Building = { environment, at, historyVersion, dropped: false };
    this.#building.add(building);
    return building;
  }

  /**
   * Keeps a rebuilt value, unless it was dropped while being rebuilt or history starts moved
   * (`historyVersion`: the store's now); undefined ends a rebuild that failed.
   */
  set(building: Building, value: T | undefined, historyVersion: number): void {
    this.#building.delete(building);
    if (value === undefined || building.dropped || building.historyVersion !== historyVersion) return;
    const { environment, at } = building;
    const key = keyOf(environment, at);
    this.#entries.delete(key);
    this.#entries.set(key, { environment, at, historyVersion, value });
    while (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value as string);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Drops what a store event can change. */
  onStoreEvent(event: StoreEvent): void {
    switch (event.type) {
      case 'host-enrolled':
      case 'host-updated':
        this.#drop(event.environment);
        this.#drop(event.previousEnvironment);
        return;
      case 'facts-changed': {
        if (event.initial) {
          this.#drop(event.environment);
          return;
        }
        let earliest = Number.POSITIVE_INFINITY;
        for (const change of event.changes) earliest = Math.min(earliest, change.at);
        this.#drop(event.environment, earliest);
        return;
      }
    }
  }

  /** Entries of `environment` at or after `from` (every one by default). */
  #drop(environment: string | null, from = Number.NEGATIVE_INFINITY): void {
    if (environment === null) return;
    for (const [key, entry] of this.#entries) {
      if (entry.environment === environment && entry.at >= from) this.#entries.delete(key);
    }
    for (const building of this.#building) {
      if (building.environment === environment && building.at >= from) building.dropped = true;
    }
  }
}

function keyOf(environment: string, at: number): string {
  return `${environment}\u0000${at}`;
}
