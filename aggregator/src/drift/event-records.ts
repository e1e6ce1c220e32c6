/**
 * Drift events as data: their identity keys, their published form (`DriftEventRecord`, ISO times),
 * and the comparisons a pass uses to decide whether an open event changed. No engine state here.
 */
import { categoryOf, compareStrings, type FactValue, factValuesEqual } from '@envparity/shared';
import type { NewDriftEvent, StoredDriftEvent } from '../store/fact-store.js';
import type { EnvironmentState } from './environment-states.js';
import type { DriftEventRecord } from './events.js';
import type { HostDrift } from './host-outliers.js';
import { causeKey } from './outlier-groups.js';
import type { PathDifference } from './outliers.js';
import { driftKey } from './reconcile.js';

/** Hosts an event lists at most; `hostCount` tells how many in all. */
export const MAX_EVENT_HOSTS = 100;

/** Identity of a host's outlier event in older versions (one open event per host off its baseline). */
export function outlierKey(environment: string, hostId: string): string {
  return driftKey({ kind: 'outlier', environment, hostId, path: '' });
}

/** Identity of an outlier group (per cause). */
export function outlierGroupKey(environment: string, cause: PathDifference): string {
  return `outlier\u0000${environment}\u0000${causeKey(cause)}`;
}

/** Identity of a host's `lost` event. */
export function lostKey(environment: string, hostId: string): string {
  return `lost\u0000${environment}\u0000${hostId}`;
}

/**
 * A stored event as the API and the event emitter show it (ISO times). `drift` (an outlier event's
 * host, as the engine last saw it) adds `count` and `paths`.
 */
export function toDriftEventRecord(event: StoredDriftEvent, drift?: HostDrift): DriftEventRecord {
  const record: DriftEventRecord = {
    id: event.id,
    kind: event.kind,
    environment: event.environment,
    path: event.path,
    status: event.status,
    openedAt: new Date(event.openedAt).toISOString(),
  };
  if (event.otherEnvironment !== undefined) record.otherEnvironment = event.otherEnvironment;
  if (event.hostId !== undefined) record.hostId = event.hostId;
  if (event.expected !== undefined) record.expected = event.expected;
  if (event.actual !== undefined) record.actual = event.actual;
  if (event.resolvedAt !== null) record.resolvedAt = new Date(event.resolvedAt).toISOString();
  if (event.kind === 'emergency' || event.emergency) record.emergency = true;
  if (event.upstream !== undefined) record.upstream = event.upstream;
  if (event.seq !== undefined) record.seq = event.seq;
  const hosts = event.hosts ?? (event.hostId !== undefined ? [event.hostId] : undefined);
  if (hosts !== undefined) {
    record.hosts = hosts.slice(0, MAX_EVENT_HOSTS);
    record.hostCount = event.hostCount ?? hosts.length;
  }
  if (drift !== undefined && event.kind === 'outlier') {
    record.count = drift.count;
    record.paths = [...drift.paths];
  }
  if (event.resolution !== undefined) record.resolution = event.resolution;
  if (event.exception !== undefined) record.exception = { ...event.exception };
  return record;
}

/** Sorted host ids, and the count when there are more than one event lists. */
export function hostList(
  hosts: Iterable<string>,
  cap = Number.POSITIVE_INFINITY,
): { hosts: string[]; hostCount?: number } {
  const sorted = [...hosts].sort(compareStrings);
  return sorted.length > cap ? { hosts: sorted.slice(0, cap), hostCount: sorted.length } : { hosts: sorted };
}

export function sameHosts(a: readonly string[] | undefined, b: readonly string[]): boolean {
  return a !== undefined && a.length === b.length && a.every((host, i) => host === b[i]);
}

/** The counted hosts of an environment holding `path` = `value` (absent: lacking the path); blobs looked at once. */
export function hostsWithValue(state: EnvironmentState, path: string, value: FactValue | undefined): string[] {
  const category = categoryOf(path);
  const verdict = new Map<string, boolean>();
  const hosts: string[] = [];
  for (const host of state.baselineHosts) {
    const blob = host.categories.get(category);
    const hash = blob?.hash ?? '';
    let holds = verdict.get(hash);
    if (holds === undefined) {
      const has = blob !== undefined && Object.hasOwn(blob.facts, path);
      holds = value === undefined ? !has : has && factValuesEqual(blob.facts[path] as FactValue, value);
      verdict.set(hash, holds);
    }
    if (holds) hosts.push(host.id);
  }
  return hosts;
}

export function sameValue(a: FactValue | undefined, b: FactValue | undefined): boolean {
  return a === undefined || b === undefined ? a === b : factValuesEqual(a, b);
}

/** Whether an event's published state (values, hosts, emergency) is unchanged. */
export function sameEventState(a: StoredDriftEvent | NewDriftEvent, b: StoredDriftEvent | NewDriftEvent): boolean {
  return (
    sameValue(a.expected, b.expected) &&
    sameValue(a.actual, b.actual) &&
    sameHosts(a.hosts, b.hosts ?? []) &&
    a.hostCount === b.hostCount &&
    Boolean(a.emergency) === Boolean(b.emergency) &&
    a.upstream === b.upstream
  );
}

/** Whether any host of the state holds `path` = `value`; each distinct category blob is looked at once. */
export function stateHasValue(state: EnvironmentState, path: string, value: FactValue): boolean {
  const category = categoryOf(path);
  const seen = new Set<string>();
  for (const host of state.hosts) {
    const blob = host.categories.get(category);
    if (!blob || seen.has(blob.hash)) continue;
    seen.add(blob.hash);
    if (Object.hasOwn(blob.facts, path) && factValuesEqual(blob.facts[path], value)) return true;
  }
  return false;
}
