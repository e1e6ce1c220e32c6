/**
 * Applying a report to a fact map: the one rule both sides must agree on (the agent's `sent` and
 * acknowledged state, the aggregator's stored categories). Per category: a `full` replaces what
 * the category held, then the `delta` patches it (unset paths deleted, set paths assigned).
 */
import { applyDelta, type FactDelta } from './diff.js';
import { EMPTY_FACTS, type FactMap, ownValue } from './facts.js';
import { categoryOf } from './paths.js';

/** The parts of a report that change facts (a ReportMessage, or a report body before its seq). */
export interface ReportChanges {
  full?: Readonly<Record<string, Readonly<FactMap>>>;
  delta?: Readonly<Record<string, FactDelta>>;
}

/**
 * The facts of one category after a report: `full` (when sent) replaces `current`, then `delta`
 * (when sent) patches the result. None of the arguments is modified; without a delta the answer is
 * `full` (or `current`) itself, not a copy, so a full category of thousands of packages costs nothing.
 */
export function applyToCategory(
  current: Readonly<FactMap> | undefined,
  full: Readonly<FactMap> | undefined,
  delta: FactDelta | undefined,
): Readonly<FactMap> {
  const base = full ?? current ?? EMPTY_FACTS;
  return delta ? applyDelta(base as FactMap, delta) : base;
}

/**
 * A new map: `base` with the report applied, category by category with applyToCategory(), so the
 * whole-map and per-category forms cannot disagree. Paths are taken to be filed under their own
 * category, as findReportPathProblem() checks before the aggregator stores a report.
 */
export function applyReport(base: Readonly<FactMap>, report: ReportChanges): FactMap {
  const fullCategories = Object.keys(report.full ?? {});
  if (fullCategories.length === 0) {
    // Deltas only (most reports): each delta patches its own category's paths, so patching a copy of
    // the whole map is the same rule without filing every path by category (2x faster at 20k
    // paths; the properties in apply-report.test.ts hold both ways to one answer).
    let result: FactMap = { ...base };
    for (const delta of Object.values(report.delta ?? {})) result = patchInPlace(result, delta);
    return result;
  }
  const touched = new Set([...fullCategories, ...Object.keys(report.delta ?? {})]);
  const result: FactMap = {};
  const before = new Map<string, FactMap>();
  for (const [path, value] of Object.entries(base)) {
    const category = categoryOf(path);
    if (!touched.has(category)) {
      result[path] = value;
      continue;
    }
    let facts = before.get(category);
    if (!facts) {
      facts = {};
      before.set(category, facts);
    }
    facts[path] = value;
  }
  for (const category of touched) {
    const after = applyToCategory(
      before.get(category),
      ownValue(report.full, category),
      ownValue(report.delta, category),
    );
    Object.assign(result, after);
  }
  return result;
}

function patchInPlace(facts: FactMap, delta: FactDelta): FactMap {
  for (const path of delta.unset) delete facts[path];
  for (const [path, value] of Object.entries(delta.set)) facts[path] = value;
  return facts;
}
