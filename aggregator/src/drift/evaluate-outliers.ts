/**
 * Outlier events of one environment (pure): its hosts are judged against the baseline, regrouped
 * by cause (outlier-groups.ts), and each group that changed is resolved, updated or held for the
 * grouping window. Incremental: while the baseline and the exceptions are the ones the previous
 * pass judged with, only hosts whose facts changed (`factsVersion`) are judged again, which is
 * what keeps a pass over 10,000 hosts cheap.
 */
import { differenceStatus, type ExceptionRule, type FactValue } from '@envparity/shared';
import type { NewDriftEvent, StoredDriftEvent } from '../store/fact-store.js';
import type { HostSnapshot } from './baseline.js';
import type { EnvironmentMemo, HostEntry } from './drift-ledger.js';
import type { EmergencyEntry } from './emergency-ledger.js';
import type { EnvironmentState } from './environment-states.js';
import { hostList, outlierGroupKey, sameEventState, sameValue } from './event-records.js';
import type { DriftResolution } from './events.js';
import { DriftJudge, findDifference, findDrift, hostDrift } from './host-outliers.js';
import { groupDrift, type OutlierGroup, regroupOutliers } from './outlier-groups.js';
import type { PathDifference } from './outliers.js';
import type { ExceptionRef, PassFindings } from './pass-findings.js';
import type { Sliced } from './time-slicing.js';

/** The emergency change that brought `path` = `value` into `environment`, if one did (EmergencyLedger.find). */
export type EmergencyLookup = (
  environment: string,
  path: string,
  value: FactValue | undefined,
) => EmergencyEntry | undefined;

/** What every environment's outlier evaluation of one pass shares. */
export interface OutlierContext {
  now: number;
  at: Date;
  rules: readonly ExceptionRule[];
  open: ReadonlyMap<string, StoredDriftEvent>;
  /** Hosts that left the baseline this pass, and why (evaluate-presence.ts). */
  left: ReadonlySet<string>;
  leftReason: ReadonlyMap<string, DriftResolution>;
  emergencies: EmergencyLookup;
  findings: PassFindings;
}

/** One environment of the pass: its pinned state (undefined once it has no facts), memo and groups. */
export interface OutlierEnvironment {
  environment: string;
  state: EnvironmentState | undefined;
  previous: EnvironmentMemo | undefined;
  /** Its open and held outlier events, as groups (outlierGroupsOf). */
  groups: OutlierGroup[];
}

/** The hosts of an environment as judged this pass. */
interface JudgedHosts {
  hosts: Map<string, HostEntry>;
  snapshots: Map<string, HostSnapshot>;
  /** Hosts judged again (facts changed, or everything) and hosts gone since the previous pass. */
  changed: string[];
  /** Everything was judged again: the baseline or the exceptions changed. */
  full: boolean;
}

/** Open events and held outlier groups of the given environments, as groups. */
export function outlierGroupsOf(
  environments: ReadonlySet<string>,
  events: Iterable<StoredDriftEvent | NewDriftEvent>,
): Map<string, OutlierGroup[]> {
  const byEnvironment = new Map<string, OutlierGroup[]>();
  for (const event of events) {
    if (event.kind !== 'outlier' || !environments.has(event.environment)) continue;
    const hosts = event.hosts ?? (event.hostId !== undefined ? [event.hostId] : []);
    const group: OutlierGroup = {
      key: event.key,
      path: event.path,
      hosts: new Set(hosts),
      removed: [],
      touched: false,
      created: false,
    };
    if (event.expected !== undefined) group.expected = event.expected;
    if (event.actual !== undefined) group.actual = event.actual;
    let list = byEnvironment.get(event.environment);
    if (!list) {
      list = [];
      byEnvironment.set(event.environment, list);
    }
    list.push(group);
  }
  return byEnvironment;
}

/** Outlier groups of one environment: regrouped, then resolved, updated or held. */
export function* evaluateEnvironmentOutliers(context: OutlierContext, target: OutlierEnvironment): Sliced<void> {
  const { environment, state, previous, groups } = target;
  const { findings } = context;
  if (!state) {
    forgetEnvironment(context, target);
    return;
  }
  const judge = new DriftJudge(environment, context.rules, context.at);
  const judged = yield* judgeHosts(state, previous, judge);
  findings.memos.set(environment, { version: state.version, judgeKey: judge.key, hosts: judged.hosts });
  if (judged.full || judged.changed.length > 0) findings.changedEnvironments.add(environment);
  const look = new Set(judged.changed);
  if (judged.full) {
    for (const id of judged.hosts.keys()) look.add(id);
    for (const group of groups) for (const id of group.hosts) look.add(id);
  }
  const tied = new Set(state.baseline.ties.map((tie) => tie.path));
  const regrouped = regroupOutliers({
    groups,
    look,
    driftOf: (hostId) => judged.hosts.get(hostId)?.drift,
    // A tie is undecided, not fixed: the member stays while its cause path is tied.
    holds: (hostId, group) => judged.hosts.has(hostId) && tied.has(group.path),
    newKey: (first) => uniqueKey(outlierGroupKey(environment, first), context.open, findings.held),
  });
  for (const group of regrouped.values()) {
    if (!group.touched) continue;
    const event = context.open.get(group.key);
    if (group.hosts.size === 0) {
      resolveEmptiedGroup(context, target, group, event, { state, judge, snapshots: judged.snapshots });
      continue;
    }
    placeOutlierGroup(context, environment, group, event, (hostId) => {
      const snapshot = judged.snapshots.get(hostId);
      return snapshot && findDrift(state.index, snapshot, judge, group.path);
    });
  }
}

/** An environment without facts any more: its open groups resolve (with why its hosts left), held ones go. */
function forgetEnvironment(context: OutlierContext, { environment, previous, groups }: OutlierEnvironment): void {
  const { findings } = context;
  for (const group of groups) {
    const event = context.open.get(group.key);
    if (!event) {
      findings.held.delete(group.key);
      continue;
    }
    findings.resolvedDrift.set(
      group.key,
      groupDrift(group.hosts, (host) => previous?.hosts.get(host)?.drift),
    );
    findings.resolve(event, context.leftReason.get(environment) ?? 'fixed');
  }
  findings.memos.set(environment, undefined);
}

/**
 * Judges the environment's counted hosts: all of them when the baseline or the exceptions changed
 * since the previous pass, else only those whose facts changed (the others keep their entry).
 */
function* judgeHosts(
  state: EnvironmentState,
  previous: EnvironmentMemo | undefined,
  judge: DriftJudge,
): Sliced<JudgedHosts> {
  const full = previous === undefined || previous.version !== state.version || previous.judgeKey !== judge.key;
  const hosts = new Map<string, HostEntry>();
  const snapshots = new Map<string, HostSnapshot>();
  const changed: string[] = [];
  for (const host of state.baselineHosts) {
    snapshots.set(host.id, host);
    const before = previous?.hosts.get(host.id);
    if (!full && before !== undefined && before.factsVersion === host.factsVersion) {
      hosts.set(host.id, before);
      continue;
    }
    hosts.set(host.id, { factsVersion: host.factsVersion, drift: hostDrift(state.index, host, judge) });
    changed.push(host.id);
    yield 'step';
  }
  if (previous) for (const id of previous.hosts.keys()) if (!hosts.has(id)) changed.push(id);
  return { hosts, snapshots, changed, full };
}

/** `base`, or `base#n` when an open or held event already has that key. */
function uniqueKey(base: string, open: ReadonlyMap<string, unknown>, held: ReadonlyMap<string, unknown>): string {
  let key = base;
  for (let n = 2; open.has(key) || held.has(key); n++) key = `${base}#${n}`;
  return key;
}

/**
 * A group whose last hosts left it: a held one is dropped; an open one resolves — with its hosts
 * if they left the baseline, as justified if an exception now covers what they still differ in,
 * else as fixed.
 */
function resolveEmptiedGroup(
  context: OutlierContext,
  { environment, previous }: OutlierEnvironment,
  group: OutlierGroup,
  event: StoredDriftEvent | undefined,
  judged: { state: EnvironmentState; judge: DriftJudge; snapshots: ReadonlyMap<string, HostSnapshot> },
): void {
  const { findings } = context;
  if (!event) {
    findings.held.delete(group.key);
    return;
  }
  findings.resolvedDrift.set(
    group.key,
    groupDrift(group.removed, (host) => previous?.hosts.get(host)?.drift),
  );
  if (group.removed.some((host) => context.left.has(host))) {
    findings.resolve(event, context.leftReason.get(environment) ?? 'host-lost');
    return;
  }
  const exception = justification(judged.state, judged.judge, judged.snapshots, group);
  if (exception) findings.resolve(event, 'justified', exception);
  else findings.resolve(event, 'fixed');
}

/** The exception that now justifies what a resolved outlier group's hosts still differ in, if any. */
function justification(
  state: EnvironmentState,
  judge: DriftJudge,
  snapshots: ReadonlyMap<string, HostSnapshot>,
  group: OutlierGroup,
): ExceptionRef | undefined {
  for (const hostId of group.removed) {
    const snapshot = snapshots.get(hostId);
    const diff = snapshot && findDifference(state.index, snapshot, group.path);
    if (!diff) continue;
    const rule = judge.exceptionFor(group.path);
    if (rule && differenceStatus({ factClass: diff.class, exception: rule }) === 'justified') {
      return { id: rule.id, reason: rule.reason };
    }
  }
  return undefined;
}

/**
 * A non-empty outlier group after regrouping: its values follow the cause path while all its
 * hosts share them; an emergency change of that value marks it. Open events are updated (no
 * notification), held ones refreshed, new ones held for the window.
 */
function placeOutlierGroup(
  context: OutlierContext,
  environment: string,
  group: OutlierGroup,
  event: StoredDriftEvent | undefined,
  currentDiff: (hostId: string) => PathDifference | undefined,
): void {
  const { findings } = context;
  let shared: PathDifference | undefined;
  let agree = true;
  for (const host of group.hosts) {
    const diff = currentDiff(host);
    if (!diff || (shared && !(sameValue(shared.expected, diff.expected) && sameValue(shared.actual, diff.actual)))) {
      agree = false;
      break;
    }
    shared ??= diff;
  }
  const expected = agree && shared ? shared.expected : group.expected;
  const actual = agree && shared ? shared.actual : group.actual;
  const emergency = context.emergencies(environment, group.path, actual);
  const { hosts } = hostList(group.hosts);
  const withCurrentFields = <T extends StoredDriftEvent | NewDriftEvent>(base: T): T => {
    const next: T = { ...base, hosts };
    delete next.expected;
    delete next.actual;
    delete next.hostCount;
    if (expected !== undefined) next.expected = expected;
    if (actual !== undefined) next.actual = actual;
    if (emergency) {
      next.emergency = true;
      next.upstream = emergency.upstream;
    }
    return next;
  };
  if (event) {
    const next = withCurrentFields(event);
    if (!sameEventState(event, next)) findings.updated.set(event.key, next);
    return;
  }
  const base: NewDriftEvent = findings.held.get(group.key) ?? {
    key: group.key,
    kind: 'outlier',
    environment,
    path: group.path,
    openedAt: context.now,
  };
  const next = withCurrentFields(base);
  next.hostId = hosts[0] as string;
  findings.held.set(group.key, next);
}
