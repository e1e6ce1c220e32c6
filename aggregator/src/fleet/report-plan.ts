/**
 * What one report does to one host, worked out before anything is written: the categories after it
 * (full categories replace, then deltas patch: `applyToCategory`, the agent's rule too), the blobs it adds, the reference counts it moves,
 * the per-path changes it records and the categories the agent must resend. Backend-neutral: the
 * store writes the plan, then `applyPlan` makes it the host's state in the batch.
 */
import {
  applyToCategory,
  type Classifier,
  compareStrings,
  diffFacts,
  EMPTY_CATEGORY_HASH,
  EMPTY_FACTS,
  type FactMap,
  factMapsEqual,
  fingerprintMap,
  ownValue,
  type ReportMessage,
} from '@envparity/shared';
import type { FactChange } from '../store/fact-store.js';
import { canonicalCopy } from './blob-index.js';
import { bump, type FleetBatch } from './fleet-batch.js';
import type { HostState } from './host-state.js';

export interface ReportPlan {
  /** The host's first report with facts: recorded as its initial state, not as changes. */
  initial: boolean;
  categories: Map<string, string>;
  /** Categories whose blob changed, in name order. */
  touched: string[];
  newBlobs: Map<string, Readonly<FactMap>>;
  refDelta: Map<string, number>;
  changes: FactChange[];
  /** Paths the host holds after the report. */
  pathCount: number;
  /** Categories whose fingerprint after the report differs from the one the agent claims. */
  resync: string[];
}

export interface PlanOptions {
  classify: Classifier;
  /** Record changes of `volatile` facts too. */
  recordVolatileChanges: boolean;
}

function pathsIn(facts: Readonly<FactMap> | undefined): number {
  return facts === undefined ? 0 : Object.keys(facts).length;
}

interface CategoryOutcome {
  facts: Readonly<FactMap>;
  hash: string;
}

/** One category after the report. A claimed fingerprint naming a held blob with the same facts is that blob. */
function categoryAfter(
  report: ReportMessage,
  category: string,
  before: Readonly<FactMap>,
  blobOf: (hash: string) => Readonly<FactMap> | undefined,
): CategoryOutcome {
  const full = report.full && ownValue(report.full, category);
  const delta = report.delta && ownValue(report.delta, category);
  const after = applyToCategory(before, full, delta);
  // Most hosts send categories other hosts hold already (same image): that blob is the category,
  // with no encoding, hashing, copying or write. Anything else is hashed here, whatever the agent claims.
  const claimed = full && !delta ? report.fingerprints && ownValue(report.fingerprints, category) : undefined;
  const stored = claimed === undefined ? undefined : blobOf(claimed);
  if (claimed !== undefined && stored !== undefined && factMapsEqual(stored, after)) {
    return { facts: stored, hash: claimed };
  }
  return { facts: after, hash: fingerprintMap(after) };
}

function recordChanges(
  plan: ReportPlan,
  hostId: string,
  report: ReportMessage,
  before: Readonly<FactMap>,
  after: Readonly<FactMap>,
  options: PlanOptions,
): void {
  for (const difference of diffFacts(before, after, { classify: options.classify })) {
    if (difference.class === 'volatile' && !options.recordVolatileChanges) continue;
    const change: FactChange = { hostId, seq: report.seq, at: report.observedAt, path: difference.path };
    if (difference.from !== undefined) change.from = difference.from;
    if (difference.to !== undefined) change.to = difference.to;
    plan.changes.push(change);
  }
}

/** The plan of `report` for `host` (the batch's copy), nothing applied yet. */
export function planReport(
  host: HostState,
  report: ReportMessage,
  batch: FleetBatch,
  options: PlanOptions,
): ReportPlan {
  const plan: ReportPlan = {
    // Only the first report with facts is the initial state; a host emptied and refilled records changes.
    initial: !host.hasInitialState,
    categories: new Map(host.categories),
    touched: [],
    newBlobs: new Map(),
    refDelta: new Map(),
    changes: [],
    pathCount: host.pathCount,
    resync: [],
  };
  const blobOf = (hash: string) => plan.newBlobs.get(hash) ?? batch.blob(hash);
  const names = new Set([...Object.keys(report.full ?? {}), ...Object.keys(report.delta ?? {})]);
  for (const category of [...names].sort(compareStrings)) {
    const beforeHash = plan.categories.get(category);
    const before = beforeHash === undefined ? EMPTY_FACTS : (blobOf(beforeHash) ?? EMPTY_FACTS);
    const after = categoryAfter(report, category, before, blobOf);
    if (after.hash === (beforeHash ?? EMPTY_CATEGORY_HASH)) continue;
    plan.touched.push(category);
    plan.pathCount += pathsIn(after.facts) - pathsIn(before);
    if (!plan.initial) recordChanges(plan, host.id, report, before, after.facts, options);
    if (beforeHash !== undefined) bump(plan.refDelta, beforeHash, -1);
    if (Object.keys(after.facts).length === 0) {
      plan.categories.delete(category);
      continue;
    }
    plan.categories.set(category, after.hash);
    bump(plan.refDelta, after.hash, 1);
    if (blobOf(after.hash) === undefined) plan.newBlobs.set(after.hash, canonicalCopy(after.facts));
  }
  for (const [category, fingerprint] of Object.entries(report.fingerprints ?? {})) {
    if ((plan.categories.get(category) ?? EMPTY_CATEGORY_HASH) !== fingerprint) plan.resync.push(category);
  }
  plan.resync.sort(compareStrings);
  return plan;
}

/** The written plan becomes the host's state in the batch (seq, last seen and meta are the caller's). */
export function applyPlan(host: HostState, plan: ReportPlan, batch: FleetBatch): void {
  host.categories = plan.categories;
  host.pathCount = plan.pathCount;
  if (plan.initial && plan.categories.size > 0) host.hasInitialState = true;
  if (plan.touched.length === 0) return;
  host.factsVersion++;
  for (const [hash, facts] of plan.newBlobs) batch.newBlobs.set(hash, facts);
  for (const [hash, by] of plan.refDelta) bump(batch.refDelta, hash, by);
  batch.changedHosts.add(host.id);
  // Here rather than once per host at the end of the batch: the flush budget then counts it
  // (a new blob's encoding is as costly as applying the report).
  const { fingerprint, fingerprints } = batch.fingerprints(host.categories);
  host.fingerprint = fingerprint;
  host.fingerprints = fingerprints;
}
