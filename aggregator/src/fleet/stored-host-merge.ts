/**
 * A host another aggregator wrote, merged into this aggregator's fleet state: the stored row becomes
 * the host, and the store events a local write would have emitted are derived from the difference,
 * so the drift engine, caches and presence here react to a report committed elsewhere exactly as to
 * one of their own.
 */
import { type Classifier, compareStrings, diffFacts, EMPTY_FACTS, type FactMap } from '@envparity/shared';
import type { FactChange, StoreEvent } from '../store/fact-store.js';
import type { HostState } from './host-state.js';

export interface StoredHostMerge {
  host: HostState;
  events: StoreEvent[];
}

function newerOf(a: number | null, b: number | null): number | null {
  return a !== null && (b === null || a > b) ? a : b;
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The merged host and its events; undefined when the stored row is older than what this aggregator
 * holds (same enrollment, lower seq: a signal that arrived after a newer local write).
 */
export function mergeStoredHost(
  before: HostState | undefined,
  stored: HostState,
  blobOf: (hash: string) => Readonly<FactMap> | undefined,
  classify: Classifier,
  now: number,
): StoredHostMerge | undefined {
  if (before && before.enrolledAt === stored.enrolledAt && before.lastSeq > stored.lastSeq) return undefined;
  const host: HostState = {
    ...stored,
    // A heartbeat here may be newer than the row (touches are written with the next batch).
    lastSeen: newerOf(before?.lastSeen ?? null, stored.lastSeen),
    factsVersion: before?.factsVersion ?? 0,
    pathCount: 0,
  };
  for (const hash of host.categories.values()) host.pathCount += Object.keys(blobOf(hash) ?? EMPTY_FACTS).length;

  const events: StoreEvent[] = [];
  if (!before || before.enrolledAt !== stored.enrolledAt) {
    events.push({
      type: 'host-enrolled',
      hostId: host.id,
      reenrolled: before !== undefined,
      environment: host.environment,
      previousEnvironment: before?.environment ?? null,
      at: host.enrolledAt,
    });
  } else if (
    before.environment !== host.environment ||
    before.agentVersion !== host.agentVersion ||
    !sameLabels(before.labels, host.labels)
  ) {
    events.push({
      type: 'host-updated',
      hostId: host.id,
      environment: host.environment,
      previousEnvironment: before.environment,
    });
  }
  if (before && before.retiredAt === null && host.retiredAt !== null) {
    events.push({
      type: 'host-updated',
      hostId: host.id,
      environment: null,
      previousEnvironment: before.environment,
      retired: true,
    });
  } else if (before && before.retiredAt !== null && host.retiredAt === null) {
    events.push({ type: 'host-updated', hostId: host.id, environment: host.environment, previousEnvironment: null });
  }

  const touched = touchedCategories(before?.categories ?? new Map(), host.categories);
  if (touched.length > 0) {
    host.factsVersion++;
    const initial = !(before?.hasInitialState ?? false) && host.hasInitialState;
    events.push({
      type: 'facts-changed',
      hostId: host.id,
      environment: host.environment,
      seq: host.lastSeq,
      observedAt: now,
      categories: touched,
      // A first report is an initial state, not changes (as the ingest records it).
      changes: initial ? [] : changesOf(before, host, touched, blobOf, classify, now),
      initial,
    });
  }
  return { host, events };
}

function touchedCategories(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): string[] {
  const touched = new Set<string>();
  for (const [category, hash] of after) if (before.get(category) !== hash) touched.add(category);
  for (const category of before.keys()) if (!after.has(category)) touched.add(category);
  return [...touched].sort(compareStrings);
}

/** Per-path changes of the touched categories, volatile facts left out (the ingest does not record them either). */
function changesOf(
  before: HostState | undefined,
  after: HostState,
  touched: readonly string[],
  blobOf: (hash: string) => Readonly<FactMap> | undefined,
  classify: Classifier,
  now: number,
): FactChange[] {
  const factsOf = (host: HostState | undefined, category: string): FactMap => {
    const hash = host?.categories.get(category);
    return (hash === undefined ? EMPTY_FACTS : (blobOf(hash) ?? EMPTY_FACTS)) as FactMap;
  };
  return touched.flatMap((category) =>
    diffFacts(factsOf(before, category), factsOf(after, category), { classify })
      .filter((difference) => difference.class !== 'volatile')
      .map(({ path, from, to }) => ({
        hostId: after.id,
        seq: after.lastSeq,
        at: now,
        path,
        ...(from !== undefined ? { from } : {}),
        ...(to !== undefined ? { to } : {}),
      })),
  );
}
