/**
 * The pure evaluation of a drift pass, state in, findings out: no store, no timers. States are made
 * from host snapshots; the ledger between passes is the engine's own, fed by a pretend write.
 */
import type { ExceptionRule, FactMap, FactValue } from '@envparity/shared';
import { describe, expect, it } from 'vitest';
import { snapshotOf, testClassifier } from '../../testing/drift-hosts.js';
import type { NewDriftEvent, StoredDriftEvent } from '../store/fact-store.js';
import type { HostSnapshot } from './baseline.js';
import { type DriftEvaluationSettings, evaluateDrift } from './drift-evaluation.js';
import { DriftLedger } from './drift-ledger.js';
import { type EnvironmentState, environmentState } from './environment-states.js';
import { evaluatePresence, type PresenceOutcome } from './evaluate-presence.js';
import { lostKey, outlierGroupKey } from './event-records.js';
import { PassFindings } from './pass-findings.js';
import type { PresenceTransition } from './presence-tracker.js';
import { driftKey } from './reconcile.js';
import { runToEnd } from './time-slicing.js';

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const WINDOW_MS = 10_000;
const LOG_LEVEL = 'config.env.LOG_LEVEL';
const OPENSSL = 'library.openssl';
const SETTINGS: DriftEvaluationSettings = {
  classify: testClassifier,
  promotion: ['staging', 'production'],
  comparePairs: [],
  secretPolicy: [],
  groupWindowMs: WINDOW_MS,
};

const FACTS: FactMap = { 'os.distro.id': 'debian', [OPENSSL]: '3.0.11', [LOG_LEVEL]: 'info', 'hardware.cpu.cores': 8 };

function host(
  id: string,
  environment: string,
  overrides: Record<string, FactValue> = {},
  { online = true, factsVersion = 1 } = {},
): HostSnapshot {
  return snapshotOf(id, environment, { ...FACTS, ...overrides }, online, factsVersion);
}

/** Each environment's state, as a pass pins it. */
function statesOf(hosts: readonly HostSnapshot[]): Map<string, EnvironmentState> {
  const byEnvironment = new Map<string, HostSnapshot[]>();
  for (const snapshot of hosts) {
    const environment = snapshot.environment as string;
    byEnvironment.set(environment, [...(byEnvironment.get(environment) ?? []), snapshot]);
  }
  const states = new Map<string, EnvironmentState>();
  for (const [environment, members] of byEnvironment) {
    states.set(environment, environmentState({ environment, hosts: members, classify: testClassifier }));
  }
  return states;
}

interface PassInput {
  now?: number;
  rules?: ExceptionRule[];
  dirty?: string[];
  transitions?: PresenceTransition[];
  expired?: { path: string; environments: string[] }[];
  endWindow?: boolean;
}

let nextId = 1;

/** One pass over `hosts` from the ledger's memory; when `write`, the ledger takes it in as the store would. */
function pass(ledger: DriftLedger, hosts: readonly HostSnapshot[], input: PassInput = {}, write = true) {
  const { now = T0, rules = [], transitions = [], expired = [], endWindow = false } = input;
  const states = statesOf(hosts);
  const stateOf = (environment: string) =>
    states.get(environment) ?? environmentState({ environment, hosts: [], classify: testClassifier });
  const findings = new PassFindings(ledger.held);
  const presence: PresenceOutcome = evaluatePresence(
    { now, transitions, retired: new Map(), open: ledger.open },
    findings,
  );
  const dirty = new Set([...(input.dirty ?? states.keys()), ...presence.leftReason.keys()]);
  runToEnd(
    evaluateDrift(
      SETTINGS,
      {
        now,
        rules,
        dirty,
        environments: [...states.keys()],
        stateOf,
        open: ledger.open,
        memos: ledger.memos,
        presence,
        emergencies: () => undefined,
        expired,
        endWindow,
      },
      findings,
    ),
  );
  const resolved = findings.resolved();
  const updates = findings.updates();
  const opened = findings.open.map((event) => stored(event));
  if (write) ledger.commit({ held: findings.held, memos: findings.memos, updates, resolved, opened });
  return { findings, presence, resolved, updates, opened };
}

function stored(event: NewDriftEvent): StoredDriftEvent {
  return { ...event, id: String(nextId++), status: 'open', resolvedAt: null };
}

/** Five production hosts, `warn` ones off the baseline; a host's facts version follows its facts (info 1, warn 2). */
const production = (warn: readonly string[] = []) =>
  ['p1', 'p2', 'p3', 'p4', 'p5'].map((id) =>
    warn.includes(id) ? host(id, 'production', { [LOG_LEVEL]: 'warn' }, { factsVersion: 2 }) : host(id, 'production'),
  );
const CAUSE = { path: LOG_LEVEL, expected: 'info', actual: 'warn', class: 'behavior' as const };
const exception: ExceptionRule = {
  id: 'exc-1',
  path: LOG_LEVEL,
  environments: ['production'],
  reason: 'debugging a leak',
  expiresAt: null,
};

describe('outliers', () => {
  it('holds a new outlier for the grouping window, then opens it with every host it reached', () => {
    const ledger = new DriftLedger();
    const first = pass(ledger, production(['p4']));
    expect(first.opened).toEqual([]);
    const key = outlierGroupKey('production', CAUSE);
    expect([...ledger.held.values()]).toEqual([
      {
        key,
        kind: 'outlier',
        environment: 'production',
        path: LOG_LEVEL,
        openedAt: T0,
        hosts: ['p4'],
        hostId: 'p4',
        expected: 'info',
        actual: 'warn',
      },
    ]);
    expect(ledger.driftOf('production', 'p4')).toMatchObject({ count: 1, paths: [LOG_LEVEL] });
    expect(ledger.driftOf('production', 'p1')).toBeUndefined();

    pass(ledger, production(['p4', 'p5']), { now: T0 + WINDOW_MS / 2 });
    expect(ledger.held.get(key)).toMatchObject({ openedAt: T0, hosts: ['p4', 'p5'] });

    const due = pass(ledger, production(['p4', 'p5']), { now: T0 + WINDOW_MS });
    expect(due.opened).toMatchObject([{ key, hosts: ['p4', 'p5'], openedAt: T0 }]);
    expect(ledger.held.size).toBe(0);
    expect(ledger.open.has(key)).toBe(true);
  });

  it('a difference gone within the window is never opened', () => {
    const ledger = new DriftLedger();
    pass(ledger, production(['p4']));
    const gone = pass(ledger, production(), { now: T0 + WINDOW_MS });
    expect(gone.opened).toEqual([]);
    expect(ledger.held.size).toBe(0);
  });

  it('resolves an open outlier event as fixed, or as justified by the exception that now covers it', () => {
    const ledger = new DriftLedger();
    pass(ledger, production(['p4']), { endWindow: true });
    const [event] = ledger.open.values();

    const fixed = pass(ledger, production(), { now: T0 + 1000 }, false);
    expect(fixed.resolved).toEqual([{ event, resolution: 'fixed' }]);

    const justified = pass(ledger, production(['p4']), { now: T0 + 1000, rules: [exception] }, false);
    expect(justified.resolved).toEqual([
      { event, resolution: 'justified', exception: { id: 'exc-1', reason: 'debugging a leak' } },
    ]);
  });

  it('judges only hosts whose facts changed while the baseline and the exceptions hold', () => {
    const ledger = new DriftLedger();
    const hosts = production(['p4']);
    pass(ledger, hosts);
    const before = ledger.memos.get('production');

    const p1Again = host('p1', 'production', {}, { factsVersion: 2 });
    const unchanged = pass(ledger, [p1Again, ...hosts.slice(1)]);
    const after = ledger.memos.get('production');
    expect(after?.hosts.get('p2')).toBe(before?.hosts.get('p2'));
    expect(after?.hosts.get('p4')).toBe(before?.hosts.get('p4'));
    expect(after?.hosts.get('p1')).not.toBe(before?.hosts.get('p1'));
    expect(after?.hosts.get('p1')).toEqual({ factsVersion: 2, drift: undefined });
    expect(unchanged.findings.changedEnvironments).toEqual(new Set(['production']));

    // Nothing changed at all: nothing is judged, the environment's pair events keep their hosts.
    const quiet = pass(ledger, [p1Again, ...hosts.slice(1)]);
    expect(ledger.memos.get('production')?.hosts.get('p1')).toBe(after?.hosts.get('p1'));
    expect(quiet.findings.changedEnvironments.size).toBe(0);

    // Other exceptions: every host is judged again (and p4's warn is now justified).
    pass(ledger, [p1Again, ...hosts.slice(1)], { rules: [exception] });
    const judgedAgain = ledger.memos.get('production');
    expect(judgedAgain?.hosts.get('p2')).not.toBe(after?.hosts.get('p2'));
    expect(judgedAgain?.hosts.get('p4')).toEqual({ factsVersion: 2, drift: undefined });
  });

  it('an outlier host that leaves the baseline takes its event with it (host-lost, not fixed)', () => {
    const ledger = new DriftLedger();
    pass(ledger, production(['p4']), { endWindow: true });
    const [event] = ledger.open.values();
    const hosts = production(['p4']).map((snapshot) =>
      snapshot.id === 'p4' ? host('p4', 'production', { [LOG_LEVEL]: 'warn' }, { online: false }) : snapshot,
    );
    const transitions: PresenceTransition[] = [
      { hostId: 'p4', environment: 'production', from: 'offline', to: 'lost' },
    ];
    const lost = pass(ledger, hosts, { now: T0 + 1000, transitions, dirty: [] });
    expect(lost.presence.left).toEqual(new Set(['p4']));
    expect(lost.resolved).toEqual([{ event, resolution: 'host-lost' }]);
    expect(lost.opened).toMatchObject([
      { key: lostKey('production', 'p4'), kind: 'lost', hostId: 'p4', openedAt: T0 + 1000 },
    ]);
  });
});

describe('environment pairs', () => {
  const staging = (openssl = '3.0.13') => ['s1', 's2'].map((id) => host(id, 'staging', { [OPENSSL]: openssl }));
  const pairKey = (path: string) =>
    driftKey({ kind: 'environment', environment: 'staging', otherEnvironment: 'production', path });

  it('holds one event per drifting path, listing the downstream hosts of the value', () => {
    const ledger = new DriftLedger();
    const { findings } = pass(ledger, [...staging(), ...production()]);
    expect([...findings.held.values()]).toEqual([
      {
        key: pairKey(OPENSSL),
        kind: 'environment',
        environment: 'staging',
        otherEnvironment: 'production',
        path: OPENSSL,
        openedAt: T0,
        hosts: ['p1', 'p2', 'p3', 'p4', 'p5'],
        expected: '3.0.13',
        actual: '3.0.11',
      },
    ]);
  });

  it('resolves a pair event whose difference went, and leaves one alone while its path is tied', () => {
    const ledger = new DriftLedger();
    pass(ledger, [...staging(), ...production()], { endWindow: true });
    const [event] = ledger.open.values();
    expect(event?.key).toBe(pairKey(OPENSSL));

    const tiedStaging = [host('s1', 'staging', { [OPENSSL]: '3.0.13' }), host('s2', 'staging')];
    const tied = pass(ledger, [...tiedStaging, ...production()], { now: T0 + 1000 }, false);
    expect(tied.resolved).toEqual([]);
    expect(tied.findings.held.size).toBe(0);

    const caughtUp = pass(ledger, [...staging('3.0.11'), ...production()], { now: T0 + 1000 }, false);
    expect(caughtUp.resolved).toEqual([{ event, resolution: 'fixed' }]);
  });

  it('opens a held event at once when the exception that justified it expired', () => {
    const ledger = new DriftLedger();
    pass(ledger, [...staging(), ...production()]);
    const expired = [{ path: 'library.*', environments: ['staging', 'production'] }];
    const { opened } = pass(ledger, [...staging(), ...production()], { now: T0 + 1000, expired });
    expect(opened).toMatchObject([{ key: pairKey(OPENSSL), openedAt: T0 }]);
  });
});

describe('presence and housekeeping', () => {
  it('a host past retireAfter is to be retired and leaves as retired; a lost host that returns resolves its event', () => {
    const ledger = new DriftLedger();
    const lostEvent = stored({
      key: lostKey('production', 'p2'),
      kind: 'lost',
      environment: 'production',
      hostId: 'p2',
      path: '',
      openedAt: T0,
      hosts: ['p2'],
    });
    ledger.load([lostEvent]);
    const transitions: PresenceTransition[] = [
      // Straight past retireAfter (the aggregator was down meanwhile): it leaves the baseline retired.
      { hostId: 'p1', environment: 'production', from: 'offline', to: 'retired' },
      { hostId: 'p2', environment: 'production', from: 'lost', to: 'online' },
    ];
    const { presence, resolved } = pass(ledger, production(), { transitions }, false);
    expect(presence.retire).toEqual(['p1']);
    expect(presence.leftReason).toEqual(new Map([['production', 'retired']]));
    expect(resolved).toEqual([{ event: lostEvent, resolution: 'returned' }]);
  });

  it('supersedes emergency events of older versions', () => {
    const ledger = new DriftLedger();
    const emergency = stored({
      key: 'emergency-1',
      kind: 'emergency',
      environment: 'production',
      path: LOG_LEVEL,
      openedAt: T0,
    });
    ledger.load([emergency]);
    const { resolved } = pass(ledger, production(), { dirty: [] }, false);
    expect(resolved).toEqual([{ event: emergency, resolution: 'superseded' }]);
  });
});
