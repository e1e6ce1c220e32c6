/**
 * Which candidate changes of a pass are emergency changes: the upstream environment never had the
 * value, neither now (its pinned state) nor ever (the change history: one indexed query per
 * distinct upstream, path and value). They open no event of their own: they are recorded in the
 * emergency ledger, from which the event they cause takes its mark, and flagged in the history by
 * the pass's own write.
 */
import { canonicalValue, createExceptionMatcher, type ExceptionRule, type FactValue } from '@envparity/shared';
import type { FactStore } from '../store/fact-store.js';
import type { EmergencyCandidate } from './emergency.js';
import type { EmergencyLedger } from './emergency-ledger.js';
import type { EnvironmentState } from './environment-states.js';
import { stateHasValue } from './event-records.js';

/** A recorded change to flag as an emergency change (`DriftWrite.emergencyChanges`). */
export interface EmergencyChange {
  hostId: string;
  seq: number;
  path: string;
}

export interface EmergencyDetection {
  candidates: readonly EmergencyCandidate[];
  rules: readonly ExceptionRule[];
  at: Date;
  stateOf: (environment: string) => EnvironmentState;
  store: Pick<FactStore, 'listEnvironments' | 'environmentHadValue'>;
  /** Where the emergency changes found are recorded. */
  ledger: EmergencyLedger;
}

export async function detectEmergencyChanges(detection: EmergencyDetection): Promise<EmergencyChange[]> {
  const { candidates, rules, at, stateOf, store, ledger } = detection;
  const flagged: EmergencyChange[] = [];
  const upstreamHad = new Map<string, Promise<boolean>>();
  const hadValue = (upstream: string, path: string, value: FactValue): Promise<boolean> => {
    const key = `${upstream}\u0000${path}\u0000${canonicalValue(value)}`;
    let answer = upstreamHad.get(key);
    if (!answer) {
      answer = stateHasValue(stateOf(upstream), path, value)
        ? Promise.resolve(true)
        : store.environmentHadValue(upstream, path, value);
      upstreamHad.set(key, answer);
    }
    return answer;
  };
  const known = new Set(store.listEnvironments());
  for (const candidate of candidates) {
    // An upstream no host ever declared is not in use yet: nothing can be promoted through it.
    if (!known.has(candidate.upstream)) continue;
    // A difference between the pair an exception justifies is no emergency.
    const justified = createExceptionMatcher(rules, candidate.upstream, candidate.environment, at)(candidate.path);
    if (justified) continue;
    if (await hadValue(candidate.upstream, candidate.path, candidate.value)) continue;
    flagged.push({ hostId: candidate.hostId, seq: candidate.seq, path: candidate.path });
    ledger.record(candidate);
  }
  return flagged;
}
