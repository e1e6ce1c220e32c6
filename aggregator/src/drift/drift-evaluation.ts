/**
 * The evaluation of one drift pass, pure: given the environments' states (pinned for the pass),
 * the exception rules, the ledger as the pass found it and what presence did, it fills in the
 * pass's findings — outlier events per dirty environment, environment-pair events, emergency
 * events of older versions superseded, held events whose window ended opened. No store, no timers:
 * it only yields where the pass runner may let the event loop in (time-slicing.ts).
 */
import { type Classifier, type ExceptionRule, matchPathGlob, type SecretPolicyRule } from '@envparity/shared';
import type { ExceptionRecord, NewDriftEvent, StoredDriftEvent } from '../store/fact-store.js';
import type { EnvironmentMemo } from './drift-ledger.js';
import { environmentPairs } from './environment-pairs.js';
import type { EnvironmentState } from './environment-states.js';
import { type EmergencyLookup, evaluateEnvironmentOutliers, outlierGroupsOf } from './evaluate-outliers.js';
import { evaluatePairs } from './evaluate-pairs.js';
import type { PresenceOutcome } from './evaluate-presence.js';
import type { PassFindings } from './pass-findings.js';
import type { Sliced } from './time-slicing.js';

/** What stays the same from pass to pass (the engine's configuration). */
export interface DriftEvaluationSettings {
  classify: Classifier;
  /** Upstream first; adjacent pairs are compared. */
  promotion: readonly string[];
  /** Pairs compared besides the promotion neighbours. */
  comparePairs: readonly (readonly [string, string])[];
  secretPolicy: readonly SecretPolicyRule[];
  /** How long a new event is held for the other hosts of its cause. */
  groupWindowMs: number;
}

export interface DriftEvaluationInput {
  now: number;
  rules: readonly ExceptionRule[];
  /** Environments to evaluate again: changed, or touched by presence or an expiry. */
  dirty: ReadonlySet<string>;
  /** Environments that have hosts; those whose hosts reported facts take part in pairs. */
  environments: readonly string[];
  /** Each environment's state, computed at most once per pass (EnvironmentStates.pinned). */
  stateOf: (environment: string) => EnvironmentState;
  /** The ledger as the pass found it. */
  open: ReadonlyMap<string, StoredDriftEvent>;
  memos: ReadonlyMap<string, EnvironmentMemo>;
  presence: Pick<PresenceOutcome, 'left' | 'leftReason'>;
  emergencies: EmergencyLookup;
  /** Exceptions whose expiry this pass noticed: what they stop justifying opens at once. */
  expired: readonly Pick<ExceptionRecord, 'path' | 'environments'>[];
  /** Ends the grouping window of every held event (settle()). */
  endWindow: boolean;
}

export function* evaluateDrift(
  settings: DriftEvaluationSettings,
  input: DriftEvaluationInput,
  findings: PassFindings,
): Sliced<PassFindings> {
  const { now, rules, dirty, stateOf, open } = input;
  const at = new Date(now);
  // Computing a state may build its baseline (every state, after a membership change): sliced.
  const withFacts: string[] = [];
  for (const environment of input.environments) {
    if (stateOf(environment).hosts.length > 0) withFacts.push(environment);
    yield 'step';
  }
  const hasFacts = new Set(withFacts);
  const { left, leftReason } = input.presence;
  const outlierContext = { now, at, rules, open, left, leftReason, emergencies: input.emergencies, findings };
  const groups = outlierGroupsOf(dirty, [...open.values(), ...findings.held.values()]);
  for (const environment of dirty) {
    yield 'turn';
    yield* evaluateEnvironmentOutliers(outlierContext, {
      environment,
      state: hasFacts.has(environment) ? stateOf(environment) : undefined,
      previous: input.memos.get(environment),
      groups: groups.get(environment) ?? [],
    });
  }
  yield* evaluatePairs({
    now,
    at,
    rules,
    classify: settings.classify,
    secretPolicy: settings.secretPolicy,
    pairs: environmentPairs(withFacts, settings.promotion, settings.comparePairs),
    dirty,
    stateOf,
    open,
    leftReason,
    emergencies: input.emergencies,
    findings,
  });
  // Emergency events of older versions (one per host and change) are replaced by the flag on the event they caused.
  for (const event of open.values()) if (event.kind === 'emergency') findings.resolve(event, 'superseded');
  releaseHeldEvents(settings.groupWindowMs, input, findings);
  return findings;
}

/**
 * Held events whose window passed open now (the same difference, with every host it reached
 * since). An exception's expiry is the cause of what it stops justifying: that opens at once.
 */
function releaseHeldEvents(groupWindowMs: number, input: DriftEvaluationInput, findings: PassFindings): void {
  const { now, expired, endWindow } = input;
  const byExpiry = (event: NewDriftEvent) =>
    expired.some(
      (record) =>
        record.environments.includes(event.environment) &&
        (event.otherEnvironment === undefined || record.environments.includes(event.otherEnvironment)) &&
        matchPathGlob(record.path, event.path),
    );
  for (const [key, event] of [...findings.held]) {
    if (!endWindow && event.openedAt + groupWindowMs > now && !byExpiry(event)) continue;
    findings.open.push(event);
    findings.held.delete(key);
  }
}
