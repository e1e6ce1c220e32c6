/**
 * Host presence as the drift engine counts it. A live agent connection is `online`. A host whose
 * agent went away stays `offline` — still counted in its environment's baseline with its last known
 * facts — for a grace period, so an agent restart, a reboot or a rolling deploy never moves the
 * baseline. Past the grace it is `lost` (out of the baseline: one `host.lost` event), and past
 * `retireAfter` it is `retired` (out of every list; history kept).
 *
 * Phases only change in `refresh(now)`, called at the start of each drift pass: a host's phase is
 * the same for every read between two passes, and every change is one explicit transition the
 * engine can act on. The grace is counted from the later of the host's last-seen time and the
 * tracker's start, so an aggregator that was down for an hour does not declare every host lost
 * before their agents had a chance to reconnect.
 */
import type { FactStore, HostView } from '../store/fact-store.js';
import type { Presence } from './host-snapshots.js';

export const HOST_PRESENCES = ['online', 'offline', 'lost', 'retired'] as const;
export type HostPresence = (typeof HOST_PRESENCES)[number];

/** Default grace before an offline host leaves the baseline (config `presence.graceSeconds`). */
export const DEFAULT_PRESENCE_GRACE_MS = 900_000;
/** Default time without contact after which a host is retired (config `presence.retireAfter`). */
export const DEFAULT_PRESENCE_RETIRE_AFTER_MS = 7 * 24 * 3600_000;

/** Whether a host of this presence counts in its environment's baseline. */
export function countsInBaseline(presence: HostPresence): boolean {
  return presence === 'online' || presence === 'offline';
}

export interface PresenceTransition {
  hostId: string;
  /** The host's environment (null when it declared none). */
  environment: string | null;
  from: HostPresence;
  to: HostPresence;
}

export interface PresenceTrackerOptions {
  store: Pick<FactStore, 'getHost' | 'listHosts'>;
  presence: Presence;
  graceMs?: number;
  retireAfterMs?: number;
  /** When the tracker started counting (ms): the grace of a host never starts before it. */
  since: number;
}

export class PresenceTracker {
  readonly graceMs: number;
  readonly retireAfterMs: number;
  readonly #store: PresenceTrackerOptions['store'];
  readonly #presence: Presence;
  readonly #since: number;
  /** Recorded phase of hosts that are not online; absent means `offline` (or online when connected). */
  readonly #phase = new Map<string, HostPresence>();
  #nextDue = Number.POSITIVE_INFINITY;

  constructor(options: PresenceTrackerOptions) {
    this.#store = options.store;
    this.#presence = options.presence;
    this.#since = options.since;
    this.graceMs = options.graceMs ?? DEFAULT_PRESENCE_GRACE_MS;
    this.retireAfterMs = options.retireAfterMs ?? DEFAULT_PRESENCE_RETIRE_AFTER_MS;
  }

  /** Forgets recorded phases: the next refresh finds every transition again (a new leader's first pass). */
  reset(): void {
    this.#phase.clear();
  }

  /** Hosts known to be lost already (open `lost` events at start): they stay out of the baseline. */
  markLost(hostId: string): void {
    this.#phase.set(hostId, 'lost');
  }

  /** The host's presence as of the last refresh (a live connection always reads `online`). */
  of(hostId: string, host: HostView | undefined = this.#store.getHost(hostId)): HostPresence {
    if (!host || host.retiredAt !== null) return 'retired';
    if (this.#presence.isOnline(hostId)) return 'online';
    return this.#phase.get(hostId) ?? 'offline';
  }

  /** The earliest time (ms) a refresh would find a transition due to time alone. */
  nextDue(): number {
    return this.#nextDue;
  }

  /**
   * Moves hosts to the phase their last contact puts them in and returns every change. Hosts the
   * store retired are forgotten; `lost -> retired` is returned for the engine to retire the host.
   */
  refresh(now: number): PresenceTransition[] {
    const transitions: PresenceTransition[] = [];
    let nextDue = Number.POSITIVE_INFINITY;
    const current = new Set<string>();
    for (const host of this.#store.listHosts()) {
      current.add(host.id);
      const recorded = this.#phase.get(host.id) ?? 'offline';
      if (this.#presence.isOnline(host.id)) {
        if (recorded === 'lost') transitions.push(this.#transition(host, 'lost', 'online'));
        this.#phase.delete(host.id);
        continue;
      }
      const seen = host.lastSeen ?? host.enrolledAt;
      const graceEnds = Math.max(seen, this.#since) + this.graceMs;
      const retireAt = seen + this.retireAfterMs;
      let target: HostPresence = 'offline';
      if (now >= graceEnds) target = now >= retireAt ? 'retired' : 'lost';
      // A lost host whose last contact is newer than its grace (it came and went between two passes) is back.
      if (target === 'offline') nextDue = Math.min(nextDue, graceEnds);
      else if (target === 'lost') nextDue = Math.min(nextDue, retireAt);
      if (target !== recorded) {
        transitions.push(this.#transition(host, recorded, target));
        if (target === 'offline') this.#phase.delete(host.id);
        else this.#phase.set(host.id, target);
      }
    }
    for (const id of [...this.#phase.keys()]) if (!current.has(id)) this.#phase.delete(id);
    this.#nextDue = nextDue;
    return transitions;
  }

  #transition(host: HostView, from: HostPresence, to: HostPresence): PresenceTransition {
    return { hostId: host.id, environment: host.environment, from, to };
  }
}
