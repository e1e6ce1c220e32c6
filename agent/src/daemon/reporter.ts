/**
 * Report building: what to send so that the aggregator's copy of this host becomes the current
 * facts. Pure functions, no I/O: the daemon keeps `sent` (acknowledged state plus every spooled
 * report) and asks here for the next report body.
 */
import {
  applyToCategory,
  categoryOf,
  computeCategoryDeltas,
  type FactDelta,
  type FactMap,
  fingerprintMap,
  groupByCategory,
  isEmptyDelta,
  type ReportMessage,
} from '@envparity/shared';

/** A report without its `type` and `seq`: the seq is assigned when the report is spooled. */
export type ReportBody = Omit<ReportMessage, 'type' | 'seq'>;
export type ReportMeta = NonNullable<ReportMessage['meta']>;

export interface BuildReportOptions {
  /** The state the aggregator holds or will hold once every spooled report is applied. */
  sent: FactMap;
  /** The facts as collected now. */
  current: FactMap;
  /** Categories to send whole (`welcome.need`, `resync`), or `all` for the first report of a state dir. */
  full?: ReadonlySet<string> | 'all';
  /** When the collection that produced `current` finished (ms since the epoch). */
  observedAt: number;
  meta?: ReportMeta;
  /**
   * Paths whose changes are held back from this report (volatile facts between two refreshes):
   * their value in `sent` stays (an added path stays absent, a removed one stays), so they neither
   * make a report nor ride along with another change, which stays as small as its own paths.
   * Categories sent `full` are sent as collected. The fingerprints are those of the facts the
   * aggregator holds once the report is applied.
   */
  holdBack?: (path: string) => boolean;
}

/** All categories that appear in `facts`. */
export function categoriesOf(facts: FactMap): Set<string> {
  const categories = new Set<string>();
  for (const path of Object.keys(facts)) categories.add(categoryOf(path));
  return categories;
}

/**
 * The report that turns `sent` into `current`: categories in `full` whole, every other changed
 * category as per-path `delta`, and `fingerprints[category] = fingerprintMap(current category)` for
 * every category it touches (minus the changes `holdBack` keeps for later). `undefined` when there
 * is nothing to send (the caller sends a heartbeat).
 */
export function buildReport({
  sent,
  current,
  full,
  observedAt,
  meta,
  holdBack,
}: BuildReportOptions): ReportBody | undefined {
  const currentByCategory = groupByCategory(current, categoryOf);
  const fullCategories = new Set<string>();
  if (full === 'all') {
    for (const category of currentByCategory.keys()) fullCategories.add(category);
    for (const category of categoriesOf(sent)) fullCategories.add(category);
  } else if (full) {
    for (const category of full) fullCategories.add(category);
  }
  const deltas = computeCategoryDeltas(sent, current);
  for (const category of fullCategories) delete deltas[category];
  /** Delta categories with changes held back: their fingerprint is that of `sent` with the delta applied. */
  const heldBack = new Set<string>();
  if (holdBack) {
    for (const [category, delta] of Object.entries(deltas)) {
      const kept = withoutHeldBack(delta, holdBack);
      if (kept === delta) continue;
      heldBack.add(category);
      if (isEmptyDelta(kept)) delete deltas[category];
      else deltas[category] = kept;
    }
  }
  const deltaCategories = Object.keys(deltas);
  if (fullCategories.size === 0 && deltaCategories.length === 0) return undefined;
  const body: ReportBody = { observedAt };
  const fingerprints: Record<string, string> = {};
  if (fullCategories.size > 0) {
    const fullMaps: Record<string, FactMap> = {};
    for (const category of [...fullCategories].sort()) {
      fullMaps[category] = { ...(currentByCategory.get(category) ?? {}) };
      fingerprints[category] = fingerprintMap(fullMaps[category]);
    }
    body.full = fullMaps;
  }
  if (deltaCategories.length > 0) {
    const sorted: Record<string, FactDelta> = {};
    const sentByCategory = heldBack.size > 0 ? groupByCategory(sent, categoryOf) : undefined;
    for (const category of deltaCategories.sort()) {
      const delta = deltas[category] as FactDelta;
      sorted[category] = delta;
      fingerprints[category] = fingerprintMap(
        heldBack.has(category)
          ? applyToCategory(sentByCategory?.get(category), undefined, delta)
          : (currentByCategory.get(category) ?? {}),
      );
    }
    body.delta = sorted;
  }
  body.fingerprints = fingerprints;
  if (meta) body.meta = meta;
  return body;
}

/** `delta` without the held-back paths (the same object when it has none). */
function withoutHeldBack(delta: FactDelta, holdBack: (path: string) => boolean): FactDelta {
  const setPaths = Object.keys(delta.set);
  if (!setPaths.some((path) => holdBack(path)) && !delta.unset.some((path) => holdBack(path))) return delta;
  const set: FactMap = {};
  for (const path of setPaths) if (!holdBack(path)) set[path] = delta.set[path]!;
  return { set, unset: delta.unset.filter((path) => !holdBack(path)) };
}

/** Per-category `fingerprintMap()` of a whole fact map: what `hello` carries. */
export function categoryFingerprints(facts: FactMap): Record<string, string> {
  const fingerprints: Record<string, string> = {};
  const byCategory = groupByCategory(facts, categoryOf);
  for (const category of [...byCategory.keys()].sort()) {
    fingerprints[category] = fingerprintMap(byCategory.get(category) as FactMap);
  }
  return fingerprints;
}

/** Counts for logs: categories and paths a report carries (never values). */
export function describeReport(report: Pick<ReportBody, 'full' | 'delta'>): {
  full: string[];
  delta: string[];
  paths: number;
} {
  let paths = 0;
  for (const facts of Object.values(report.full ?? {})) paths += Object.keys(facts).length;
  for (const delta of Object.values(report.delta ?? {})) paths += Object.keys(delta.set).length + delta.unset.length;
  return { full: Object.keys(report.full ?? {}), delta: Object.keys(report.delta ?? {}), paths };
}
