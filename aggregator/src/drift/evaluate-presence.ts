/**
 * Presence transitions as drift findings (pure). A lost host opens its `lost` event at once (no
 * grouping window: the grace was the wait), a host that reports again resolves it, a host past
 * `retireAfter` is to be retired. Hosts that leave the baseline without being fixed take the
 * events they cause with them, resolved with the reason they left (`host-lost` inside the
 * `host.lost` event, or `retired`), never as "fixed".
 */
import type { StoredDriftEvent } from '../store/fact-store.js';
import { lostKey } from './event-records.js';
import type { DriftResolution } from './events.js';
import type { PassFindings } from './pass-findings.js';
import type { PresenceTransition } from './presence-tracker.js';

export interface PresenceInput {
  now: number;
  transitions: readonly PresenceTransition[];
  /** Hosts the store retired since the last pass (DELETE /hosts/:id), with their environment. */
  retired: ReadonlyMap<string, string | null>;
  open: ReadonlyMap<string, StoredDriftEvent>;
}

export interface PresenceOutcome {
  /** Hosts that left the baseline without being fixed. */
  left: Set<string>;
  /** Per environment, the resolution the leaving of its hosts gives to the events it resolves. */
  leftReason: Map<string, DriftResolution>;
  /** Hosts past `retireAfter`: retired in the pass's own transaction (they are lost: in no baseline). */
  retire: string[];
}

export function evaluatePresence(input: PresenceInput, findings: PassFindings): PresenceOutcome {
  const { now, transitions, retired, open } = input;
  const outcome: PresenceOutcome = { left: new Set(), leftReason: new Map(), retire: [] };
  const leave = (hostId: string, environment: string | null, reason: DriftResolution) => {
    outcome.left.add(hostId);
    // A loss is announced with what it resolved: it wins over a retirement in the same environment.
    if (environment && outcome.leftReason.get(environment) !== 'host-lost') outcome.leftReason.set(environment, reason);
  };
  const lostEvent = (environment: string | null, hostId: string) =>
    environment === null ? undefined : open.get(lostKey(environment, hostId));
  for (const { hostId, environment, from, to } of transitions) {
    if (to === 'lost') {
      leave(hostId, environment, 'host-lost');
      if (environment !== null && !open.has(lostKey(environment, hostId))) {
        const key = lostKey(environment, hostId);
        findings.open.push({ key, kind: 'lost', environment, hostId, path: '', openedAt: now, hosts: [hostId] });
      }
    } else if (from === 'lost') {
      const event = lostEvent(environment, hostId);
      if (event) findings.resolve(event, to === 'retired' ? 'retired' : 'returned');
    }
    if (to === 'retired') {
      if (from !== 'lost') leave(hostId, environment, 'retired');
      outcome.retire.push(hostId);
    }
  }
  for (const [hostId, environment] of retired) {
    leave(hostId, environment, 'retired');
    const event = lostEvent(environment, hostId);
    if (event) findings.resolve(event, 'retired');
  }
  return outcome;
}
