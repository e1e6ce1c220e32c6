/**
 * Drift events are the difference between two observations of "what differs now": a key that
 * appears opens an event, a key that goes resolves it. Pure, so the engine can run it after every
 * ingest batch and tests can drive it directly.
 */
import type { FactValue } from '@envparity/shared';
import type { DriftEventKind } from './events.js';

/** The kinds of event a current difference has (lost hosts and older emergency events are not differences). */
export type DriftKind = Extract<DriftEventKind, 'outlier' | 'environment'>;

/** One current difference that should have an open drift event. */
export interface DriftItem {
  kind: DriftKind;
  /** The host's environment (outlier), or the `from` environment (environment pair). */
  environment: string;
  /** The `to` environment of an environment pair. */
  otherEnvironment?: string;
  hostId?: string;
  path: string;
  expected?: FactValue;
  actual?: FactValue;
}

/** Stable identity of a drift item: the same difference keeps its event open across passes. */
export function driftKey(
  item: Pick<DriftItem, 'kind' | 'environment' | 'otherEnvironment' | 'hostId' | 'path'>,
): string {
  return [item.kind, item.environment, item.otherEnvironment ?? '', item.hostId ?? '', item.path].join('\u0000');
}

export interface Reconciliation<T extends DriftItem> {
  opened: T[];
  /** Keys of open events that no longer hold. */
  resolved: string[];
}

/**
 * Compares the open events (by key) with the current differences of the scopes that were
 * re-evaluated. `inScope` limits resolution to those scopes, so a pass over one environment never
 * resolves another environment's events.
 */
export function reconcileDrift<T extends DriftItem>(
  openKeys: Iterable<{ key: string; item: DriftItem }>,
  current: readonly T[],
  inScope: (item: DriftItem) => boolean,
): Reconciliation<T> {
  const currentKeys = new Map(current.map((item) => [driftKey(item), item]));
  const open = new Set<string>();
  const resolved: string[] = [];
  for (const { key, item } of openKeys) {
    open.add(key);
    if (inScope(item) && !currentKeys.has(key)) resolved.push(key);
  }
  const opened = [...currentKeys].filter(([key]) => !open.has(key)).map(([, item]) => item);
  return { opened, resolved };
}
