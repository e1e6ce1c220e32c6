/**
 * One drift pass, from the work the scheduler took to the events it announces: presence first, then
 * emergency detection (the only store reads: the change history), then the pure evaluation,
 * time-sliced; its outcome, the retirement of hosts past `retireAfter` included, is written in one
 * transaction, and only once that committed does the ledger take it in and is it announced. A host
 * being retired is lost already, so it counts in no baseline this pass evaluates.
 * A pass that throws changed nothing the next pass relies on: the scheduler retries its work.
 */
import type { Logger } from 'pino';
import type { FactStore } from '../store/fact-store.js';
import { type DriftEvaluationSettings, evaluateDrift } from './drift-evaluation.js';
import type { DriftLedger } from './drift-ledger.js';
import { writeDriftPass } from './drift-persistence.js';
import type { DriftReadModel } from './drift-read-model.js';
import type { PassWork } from './drift-scheduler.js';
import { detectEmergencyChanges, type EmergencyChange } from './emergency-detection.js';
import type { EmergencyLedger } from './emergency-ledger.js';
import type { EnvironmentState, EnvironmentStates } from './environment-states.js';
import { evaluatePresence } from './evaluate-presence.js';
import { stateHasValue } from './event-records.js';
import type { DriftEvents } from './events.js';
import { PassFindings } from './pass-findings.js';
import { publishPass } from './publish-pass.js';
import { runSliced } from './time-slicing.js';

export interface DriftPassContext {
  store: Pick<FactStore, 'getHost' | 'listEnvironments' | 'environmentHadValue' | 'writeDriftEvents'>;
  states: EnvironmentStates;
  ledger: DriftLedger;
  emergencies: EmergencyLedger;
  settings: DriftEvaluationSettings;
  /** The exception rules, and how events are shown when announced. */
  reads: DriftReadModel;
  events: DriftEvents;
  logger?: Pick<Logger, 'debug'> | undefined;
}

export async function runDriftPass(context: DriftPassContext, work: PassWork): Promise<void> {
  // Each environment's state is computed at most once per pass, whatever lands while it yields.
  const stateOf = context.states.pinned();
  const { findings, emergencyChanges, retire } = await evaluatePass(context, work, stateOf);
  await writeAndPublish(context, work, stateOf, findings, { emergencyChanges, retire });
}

/** Presence, then emergency detection, then the pure evaluation (time-sliced): the pass's findings. */
async function evaluatePass(
  context: DriftPassContext,
  work: PassWork,
  stateOf: (environment: string) => EnvironmentState,
): Promise<{ findings: PassFindings; emergencyChanges: EmergencyChange[]; retire: string[] }> {
  const { store, states, ledger, emergencies } = context;
  const { now, dirty } = work;
  const rules = context.reads.exceptionRules();
  const findings = new PassFindings(ledger.held);
  const retired = new Map([...work.retired].map((hostId) => [hostId, store.getHost(hostId)?.environment ?? null]));
  const presence = evaluatePresence({ now, transitions: work.transitions, retired, open: ledger.open }, findings);
  for (const environment of presence.leftReason.keys()) dirty.add(environment);
  const emergencyChanges = await detectEmergencyChanges({
    candidates: work.candidates,
    rules,
    at: new Date(now),
    stateOf,
    store,
    ledger: emergencies,
  });
  const evaluation = evaluateDrift(
    context.settings,
    {
      now,
      rules,
      dirty,
      environments: states.environmentsWithHosts(),
      stateOf,
      open: ledger.open,
      memos: ledger.memos,
      presence,
      emergencies: (environment, path, value) => emergencies.find(environment, path, value),
      expired: work.expired,
      endWindow: work.endWindow,
    },
    findings,
  );
  await runSliced(evaluation);
  return { findings, emergencyChanges, retire: presence.retire };
}

/** One transaction; once it committed, the ledger takes the pass in and it is announced. */
async function writeAndPublish(
  context: DriftPassContext,
  work: PassWork,
  stateOf: (environment: string) => EnvironmentState,
  findings: PassFindings,
  { emergencyChanges, retire }: { emergencyChanges: readonly EmergencyChange[]; retire: readonly string[] },
): Promise<void> {
  const { ledger, emergencies } = context;
  const { now, dirty, expired } = work;
  const resolved = findings.resolved();
  const updates = findings.updates();
  const outcome = { now, open: findings.open, updates, resolved, emergencyChanges, expired, retire };
  const opened = await writeDriftPass(context.store, outcome);
  ledger.commit({ held: findings.held, memos: findings.memos, updates, resolved, opened });
  // An emergency change is remembered while its environment holds the value and its upstream does not.
  emergencies.prune(
    dirty,
    (entry) =>
      stateHasValue(stateOf(entry.environment), entry.path, entry.value) &&
      !stateHasValue(stateOf(entry.upstream), entry.path, entry.value),
  );
  const at = new Date(now);
  publishPass(context.events, { at, expired, resolved, opened, resolvedDrift: findings.resolvedDrift }, context.reads);
  context.logger?.debug(
    {
      environments: [...dirty],
      opened: opened.length,
      resolved: resolved.length,
      updated: updates.length,
      held: ledger.held.size,
    },
    'drift evaluated',
  );
}
