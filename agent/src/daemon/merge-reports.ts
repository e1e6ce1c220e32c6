/**
 * Spool compaction: several consecutive reports become one holding the latest state of every path
 * they touch. Applying the merged report gives the same facts as applying the originals in order,
 * and applying it again on top of any prefix of them changes nothing more, so a crash halfway
 * through a compaction (originals and merged report both on disk) is harmless.
 */
import {
  applyToCategory,
  compareStrings,
  type FactDelta,
  type FactMap,
  ownValue,
  type ReportMessage,
} from '@envparity/shared';

type DeltaState = { kind: 'delta'; set: FactMap; unset: Set<string> };
type CategoryState = { kind: 'full'; facts: FactMap } | DeltaState;

/**
 * Merges reports given in seq order: full categories stay full (later deltas applied to them),
 * deltas merge path by path (the last write of each path wins). The result has the highest seq,
 * the latest observedAt, the latest fingerprint of each category and the latest meta.
 */
export function mergeReports(reports: readonly ReportMessage[]): ReportMessage {
  const last = reports.at(-1);
  if (!last) throw new RangeError('mergeReports needs at least one report');
  const categories = new Map<string, CategoryState>();
  const fingerprints: Record<string, string> = {};
  let meta: ReportMessage['meta'];
  let observedAt = 0;
  let seq = 0;
  for (const report of reports) {
    seq = Math.max(seq, report.seq);
    observedAt = Math.max(observedAt, report.observedAt);
    const touched = new Set([...Object.keys(report.full ?? {}), ...Object.keys(report.delta ?? {})]);
    for (const category of touched) {
      const full = ownValue(report.full, category);
      const delta = ownValue(report.delta, category);
      const state = categories.get(category);
      if (full || state?.kind === 'full') {
        // A full category stays full: the shared rule gives its facts after this report.
        const current = state?.kind === 'full' ? state.facts : undefined;
        categories.set(category, { kind: 'full', facts: applyToCategory(current, full, delta) });
      } else if (delta) {
        categories.set(category, mergeDelta(state ?? { kind: 'delta', set: {}, unset: new Set() }, delta));
      }
    }
    Object.assign(fingerprints, report.fingerprints ?? {});
    if (report.meta) meta = report.meta;
  }
  const merged: ReportMessage = { type: 'report', seq, observedAt };
  const full: Record<string, FactMap> = {};
  const delta: Record<string, FactDelta> = {};
  for (const category of [...categories.keys()].sort(compareStrings)) {
    const state = categories.get(category) as CategoryState;
    if (state.kind === 'full') full[category] = state.facts;
    else delta[category] = { set: state.set, unset: [...state.unset].sort(compareStrings) };
  }
  if (Object.keys(full).length > 0) merged.full = full;
  if (Object.keys(delta).length > 0 || !merged.full) merged.delta = delta;
  if (Object.keys(fingerprints).length > 0) merged.fingerprints = fingerprints;
  if (meta) merged.meta = meta;
  return merged;
}

/** Two deltas of one category as one: the later write of each path wins (a set cancels an unset and back). */
function mergeDelta(state: DeltaState, delta: FactDelta): DeltaState {
  for (const path of delta.unset) {
    delete state.set[path];
    state.unset.add(path);
  }
  for (const [path, value] of Object.entries(delta.set)) {
    state.set[path] = value;
    state.unset.delete(path);
  }
  return state;
}
