/**
 * Emergency changes: a change that reached an environment before its upstream in the promotion
 * order ever had the new value (a hotfix straight to production, a hand-edited config). Picking the
 * candidates is pure; whether the upstream "ever had" the value is asked of the store's current
 * state and its change history by the drift engine.
 */
import { type Classifier, canonicalValue, type FactValue } from '@envparity/shared';
import type { StoreEvent } from '../store/fact-store.js';
import { upstreamOf } from './environment-pairs.js';

/** One changed path that must be checked against its upstream environment. */
export interface EmergencyCandidate {
  hostId: string;
  environment: string;
  upstream: string;
  seq: number;
  /** When the agent observed the change (ms). */
  at: number;
  path: string;
  value: FactValue;
  previous?: FactValue;
}

/**
 * The changes of a commit worth checking: behavior facts set to a value, on a host whose
 * environment has an upstream. A host's first report is not a change (it is how the host came to
 * be), and removals are not judged (an upstream "never lacking" a path is not a promotion signal).
 */
export function emergencyCandidates(
  event: Extract<StoreEvent, { type: 'facts-changed' }>,
  promotion: readonly string[],
  classify: Classifier,
): EmergencyCandidate[] {
  if (event.initial || event.environment === null) return [];
  const upstream = upstreamOf(event.environment, promotion);
  if (upstream === undefined) return [];
  const candidates: EmergencyCandidate[] = [];
  for (const change of event.changes) {
    if (change.to === undefined || classify(change.path) !== 'behavior') continue;
    const candidate: EmergencyCandidate = {
      hostId: event.hostId,
      environment: event.environment,
      upstream,
      seq: change.seq,
      at: change.at,
      path: change.path,
      value: change.to,
    };
    if (change.from !== undefined) candidate.previous = change.from;
    candidates.push(candidate);
  }
  return candidates;
}

/** Identity of an emergency drift event: one open event per host, path and value. */
export function emergencyKey(item: {
  environment: string;
  upstream: string;
  hostId: string;
  path: string;
  value: FactValue;
}): string {
  return ['emergency', item.environment, item.upstream, item.hostId, item.path, canonicalValue(item.value)].join(
    '\u0000',
  );
}
