/**
 * Environment-pair events (pure): the configured pairs with a dirty side are compared baseline to
 * baseline (`compareFacts`, the same judgement as `/compare` and `verify`); each drifting path is
 * one event holding the `to` side's hosts of the value. Paths tied on either side are undecided:
 * they neither open nor resolve an event. Only events of the pass's dirty environments resolve.
 */
import { type Classifier, compareFacts, type ExceptionRule, type SecretPolicyRule } from '@envparity/shared';
import type { NewDriftEvent, StoredDriftEvent } from '../store/fact-store.js';
import type { EnvironmentPair } from './environment-pairs.js';
import type { EnvironmentState } from './environment-states.js';
import type { EmergencyLookup } from './evaluate-outliers.js';
import { hostList, hostsWithValue, MAX_EVENT_HOSTS, sameEventState } from './event-records.js';
import type { DriftResolution } from './events.js';
import type { ExceptionRef, PassFindings } from './pass-findings.js';
import { type DriftItem, driftKey } from './reconcile.js';
import type { Sliced } from './time-slicing.js';

export interface PairContext {
  now: number;
  at: Date;
  rules: readonly ExceptionRule[];
  classify: Classifier;
  secretPolicy: readonly SecretPolicyRule[];
  /** The configured pairs whose both sides have facts (environmentPairs). */
  pairs: readonly EnvironmentPair[];
  dirty: ReadonlySet<string>;
  stateOf: (environment: string) => EnvironmentState;
  open: ReadonlyMap<string, StoredDriftEvent>;
  /** Per environment, why its hosts left the baseline this pass (evaluate-presence.ts). */
  leftReason: ReadonlyMap<string, DriftResolution>;
  emergencies: EmergencyLookup;
  findings: PassFindings;
}

/** What the comparisons of the pass's pairs found, by event key. */
interface PairDifferences {
  /** Differences that are drift (or break the secret policy): each should have an event. */
  current: Map<string, DriftItem>;
  /** Tied on a side: undecided, so such a path neither opens nor resolves an event. */
  undecided: Set<string>;
  /** Justified differences: an open event of one resolves as justified by its exception. */
  justified: Map<string, ExceptionRef>;
}

export function* evaluatePairs(context: PairContext): Sliced<void> {
  const differences: PairDifferences = { current: new Map(), undecided: new Set(), justified: new Map() };
  for (const { from, to } of context.pairs) {
    if (!context.dirty.has(from) && !context.dirty.has(to)) continue;
    yield 'turn';
    comparePair(context, from, to, differences);
  }
  for (const [key, item] of differences.current) {
    yield 'step';
    placePairEvent(context, key, item);
  }
  yield* resolveGonePairEvents(context, differences);
}

function comparePair(context: PairContext, from: string, to: string, differences: PairDifferences): void {
  const fromState = context.stateOf(from);
  const toState = context.stateOf(to);
  const tied = new Set([...fromState.baseline.ties, ...toState.baseline.ties].map((tie) => tie.path));
  const comparison = compareFacts(fromState.baseline.facts, toState.baseline.facts, {
    classify: context.classify,
    exceptions: context.rules,
    fromEnvironment: from,
    toEnvironment: to,
    now: context.at,
    ...(context.secretPolicy.length > 0 ? { secretPolicy: context.secretPolicy } : {}),
  });
  for (const difference of comparison.differences) {
    const item: DriftItem = { kind: 'environment', environment: from, otherEnvironment: to, path: difference.path };
    const key = driftKey(item);
    if (tied.has(difference.path)) {
      differences.undecided.add(key);
      continue;
    }
    if (difference.status === 'justified' && difference.exception) differences.justified.set(key, difference.exception);
    if (difference.status !== 'drift' && difference.status !== 'secret-policy') continue;
    if (difference.from !== undefined) item.expected = difference.from;
    if (difference.to !== undefined) item.actual = difference.to;
    differences.current.set(key, item);
  }
}

/**
 * A drifting pair difference: its open event is updated (no notification), a held one refreshed,
 * a new one held for the window. Its hosts are looked up again only where hosts changed.
 */
function placePairEvent(context: PairContext, key: string, item: DriftItem): void {
  const { findings } = context;
  const to = item.otherEnvironment as string;
  const event = context.open.get(key);
  const base = event ?? findings.held.get(key);
  const fresh =
    base === undefined || findings.changedEnvironments.has(to) || findings.changedEnvironments.has(item.environment);
  const { hosts, hostCount } = fresh
    ? hostList(hostsWithValue(context.stateOf(to), item.path, item.actual), MAX_EVENT_HOSTS)
    : { hosts: base.hosts ?? [], hostCount: base.hostCount };
  const emergency = context.emergencies(to, item.path, item.actual);
  const next: NewDriftEvent = {
    ...(base ?? { key, kind: 'environment', environment: item.environment, otherEnvironment: to, path: item.path }),
    openedAt: base?.openedAt ?? context.now,
    hosts,
  };
  delete next.expected;
  delete next.actual;
  delete next.hostCount;
  if (item.expected !== undefined) next.expected = item.expected;
  if (item.actual !== undefined) next.actual = item.actual;
  if (hostCount !== undefined) next.hostCount = hostCount;
  // Once caused by an emergency change, always: the mark stays after the ledger forgot the change.
  if (emergency || base?.emergency) {
    next.emergency = true;
    next.upstream = emergency?.upstream ?? (base?.upstream as string);
  }
  if (event) {
    const stored = { ...event, ...next } as StoredDriftEvent;
    if (!sameEventState(event, stored)) findings.updated.set(key, stored);
  } else findings.held.set(key, next);
}

/** Pair events of the pass's scope whose difference went: open ones resolve (with why), held ones are dropped. */
function* resolveGonePairEvents(context: PairContext, differences: PairDifferences): Sliced<void> {
  const { dirty, findings, leftReason } = context;
  const { current, undecided, justified } = differences;
  const gone = (event: StoredDriftEvent | NewDriftEvent) =>
    event.kind === 'environment' &&
    (dirty.has(event.environment) || (event.otherEnvironment !== undefined && dirty.has(event.otherEnvironment))) &&
    !current.has(event.key) &&
    !undecided.has(event.key);
  for (const event of context.open.values()) {
    yield 'step';
    if (!gone(event)) continue;
    const why = leftReason.get(event.environment) ?? leftReason.get(event.otherEnvironment ?? '');
    const exception = justified.get(event.key);
    if (why) findings.resolve(event, why);
    else if (exception) findings.resolve(event, 'justified', exception);
    else findings.resolve(event, 'fixed');
  }
  // A snapshot: dropping entries while iterating.
  for (const [key, event] of [...findings.held]) {
    yield 'step';
    if (gone(event)) findings.held.delete(key);
  }
}
