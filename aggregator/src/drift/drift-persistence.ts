/**
 * What a drift pass writes to the store. Its outcome — events opened, updated and resolved, the
 * emergency flags on the history, the exception expiries it noticed, the hosts past `retireAfter`
 * it retires — is one `writeDriftEvents` transaction: a write that fails leaves nothing half done,
 * and the pass is retried whole.
 */
import {
  type DriftWrite,
  type ExceptionRecord,
  type FactStore,
  type NewDriftEvent,
  PRESENCE_RETIRED_BY,
  type StoredDriftEvent,
} from '../store/fact-store.js';
import type { EmergencyChange } from './emergency-detection.js';
import type { Resolution } from './pass-findings.js';

/** One pass's outcome, as the store is to commit it. */
export interface DriftPassOutcome {
  now: number;
  open: readonly NewDriftEvent[];
  updates: readonly StoredDriftEvent[];
  resolved: readonly Resolution[];
  emergencyChanges: readonly EmergencyChange[];
  /** Exceptions whose expiry the pass noticed (recorded so `exception.expired` is published once). */
  expired: readonly Pick<ExceptionRecord, 'id'>[];
  /** Hosts past `retireAfter`: retired in the same transaction. */
  retire: readonly string[];
}

/** The store's form of a pass's outcome; undefined when the pass changed nothing. */
export function toDriftWrite(outcome: DriftPassOutcome): DriftWrite | undefined {
  const { now, open, updates, resolved, emergencyChanges, expired, retire } = outcome;
  const count = open.length + updates.length + resolved.length + emergencyChanges.length + expired.length;
  if (count + retire.length === 0) return undefined;
  return {
    open: [...open],
    retire: retire.map((hostId) => ({ hostId, at: now, by: PRESENCE_RETIRED_BY })),
    emergencyChanges: [...emergencyChanges],
    expiredExceptions: expired.map((record) => ({ id: record.id, at: now })),
    resolve: resolved.map(({ event, resolution, exception }) => ({
      id: event.id,
      at: now,
      resolution,
      ...(exception ? { exception } : {}),
    })),
    update: updates.map(({ id, expected, actual, hosts, hostCount, emergency, upstream }) => ({
      id,
      ...(expected !== undefined ? { expected } : {}),
      ...(actual !== undefined ? { actual } : {}),
      ...(hosts !== undefined ? { hosts } : {}),
      ...(hostCount !== undefined ? { hostCount } : {}),
      ...(emergency ? { emergency } : {}),
      ...(upstream !== undefined ? { upstream } : {}),
    })),
  };
}

/** Writes a pass's outcome in one transaction; resolves with the events it opened (none when nothing changed). */
export async function writeDriftPass(
  store: Pick<FactStore, 'writeDriftEvents'>,
  outcome: DriftPassOutcome,
): Promise<StoredDriftEvent[]> {
  const write = toDriftWrite(outcome);
  return write ? store.writeDriftEvents(write) : [];
}
