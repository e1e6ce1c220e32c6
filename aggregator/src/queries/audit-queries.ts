/**
 * Parity audits (issue 13 req 1-3): every pair of environments, each difference classified drift | justified | expiring | expired | scale, grouped by cause; recorded audits and what changed since one.
 *
 * Each pair is `FleetQueries.compare` (the judgement of `/api/v1/compare` and `verify`), re-labelled
 * by the audit judge; outliers come from `outlierGroups` (the environment page's cached groups). So
 * an audit of N environments costs N(N-1)/2 baseline compares and N group reads, never a host scan.
 */
import { compareStrings } from '@envparity/shared';
import { InvalidRequestError, NotFoundError } from '../errors.js';
import type { AuditRecordSummary } from '../store/audit-repository.js';
import type { FactStore } from '../store/fact-store.js';
import { auditStatusRank, groupAuditCauses } from './audit-causes.js';
import { createAuditJudge } from './audit-classification.js';
import { auditPairs } from './audit-pairs.js';
import {
  type AuditCounts,
  type AuditEnvironmentOutliers,
  type AuditPair,
  type AuditPairSummary,
  type AuditRecordRef,
  type AuditReport,
  emptyAuditCounts,
  OPEN_AUDIT_STATUSES,
  type RecordedAudit,
  type RecordedAuditSummary,
} from './audit-report.js';
import { auditSince } from './audit-since.js';
import type { Comparison } from './compare-sides.js';
import { knownEnvironmentOr404, sortEnvironments } from './environment-catalog.js';
import type { FleetQueries, Page } from './fleet-queries.js';

/** Outlier groups per environment in an audit (the largest; `totalGroups` says how many there are). */
export const AUDIT_OUTLIER_GROUPS = 50;
/** Hosts named per outlier group. */
export const AUDIT_HOSTS_PER_GROUP = 10;

export interface AuditQueriesDeps {
  queries: FleetQueries;
  store: FactStore;
  now?: () => number;
}

export interface AuditOptions {
  /** Default: every known environment with reporting hosts. */
  environments?: readonly string[];
  /** Only the pairs including this environment (and its outliers only). */
  pairsWith?: string;
}

/** What the list column `summary` of a recorded audit holds. */
interface StoredSummary {
  note?: string;
  counts: AuditCounts;
  open: number;
  pairs: AuditPairSummary[];
}

export class AuditQueries {
  private readonly queries: FleetQueries;
  private readonly store: FactStore;
  private readonly now: () => number;

  constructor({ queries, store, now = Date.now }: AuditQueriesDeps) {
    this.queries = queries;
    this.store = store;
    this.now = now;
  }

  /** The audit of now. NotFoundError for unknown environments; InvalidRequestError for fewer than two. */
  async live({ environments, pairsWith }: AuditOptions = {}): Promise<AuditReport> {
    const promotion = [...this.queries.promotion];
    const { selected, withoutHosts } = this.selectEnvironments(environments, promotion);
    if (pairsWith !== undefined) {
      this.queries.knownEnvironment(pairsWith);
      if (!selected.includes(pairsWith)) {
        throw new InvalidRequestError(
          `\`pairsWith\`: ${JSON.stringify(pairsWith)} is not among the audited environments (${selected.join(', ')})`,
          'pairsWith',
        );
      }
    }
    const planned = auditPairs(selected, promotion).filter(
      (pair) => pairsWith === undefined || pair.from === pairsWith || pair.to === pairsWith,
    );
    const comparisons: Comparison[] = [];
    for (const pair of planned) {
      comparisons.push(await this.queries.compare({ environment: pair.from }, { environment: pair.to }));
    }
    // Read after the comparisons: any exception they saw expire is expired here too.
    const exceptions = await this.queries.exceptions();
    const generatedAt = this.now();
    const judge = createAuditJudge(exceptions, generatedAt);
    const pairs: AuditPair[] = planned.map((plan, index) => {
      const comparison = comparisons[index] as Comparison;
      const tied = new Set([...comparison.from.ties, ...comparison.to.ties].map((tie) => tie.path));
      const differences = comparison.differences.map((difference) => {
        const judged = judge.pair(difference, plan.from, plan.to);
        if (tied.has(difference.path)) judged.tie = true;
        return judged;
      });
      return {
        ...plan,
        parity: comparison.parity,
        compared: comparison.compared,
        counts: countStatuses(differences),
        differences,
      };
    });
    const outliers: AuditEnvironmentOutliers[] = [];
    for (const environment of pairsWith === undefined ? selected : [pairsWith]) {
      const state = this.queries.environment(environment);
      if (state.hosts.length === 0) continue;
      const groups = await this.queries.outlierGroups(environment, {
        includeScale: false,
        limit: AUDIT_OUTLIER_GROUPS,
        hostsPerGroup: AUDIT_HOSTS_PER_GROUP,
      });
      outliers.push({
        environment,
        hosts: state.hosts.length,
        outlierHosts: groups.outlierHosts,
        // Stable: within a status the engine's order (most hosts first) stays.
        groups: groups.groups
          .map((group) => judge.outlier(group, environment))
          .sort((a, b) => auditStatusRank(a.status) - auditStatusRank(b.status)),
        totalGroups: groups.total,
      });
    }
    const counts = emptyAuditCounts();
    for (const pair of pairs)
      for (const status of Object.keys(counts) as (keyof AuditCounts)[]) counts[status] += pair.counts[status];
    const report: AuditReport = {
      generatedAt,
      environments: selected,
      promotion,
      withoutHosts,
      summary: {
        counts,
        open: openCount(counts),
        pairs: pairs.map(({ from, to, kind, parity, compared, counts: pairCounts }) => ({
          from,
          to,
          kind,
          parity,
          compared,
          counts: pairCounts,
        })),
        causes: groupAuditCauses(pairs),
        outliers,
      },
      pairs,
    };
    if (pairsWith !== undefined) report.pairsWith = pairsWith;
    return report;
  }

  /** Computes the live audit and stores it as `author` (a principal's name). */
  async record({
    environments,
    note,
    author,
  }: {
    environments?: readonly string[];
    note?: string;
    author: string;
  }): Promise<{ audit: AuditRecordRef; report: AuditReport }> {
    const report = await this.live(environments === undefined ? {} : { environments });
    if (note !== undefined && note !== '') report.note = note;
    const summary: StoredSummary = {
      ...(report.note !== undefined ? { note: report.note } : {}),
      counts: report.summary.counts,
      open: report.summary.open,
      pairs: report.summary.pairs,
    };
    const record = await this.store.audits.record({
      at: report.generatedAt,
      author,
      environments: report.environments,
      summary,
      report,
    });
    return { audit: { id: record.id, at: record.at, author: record.author }, report };
  }

  /** Recorded audits, newest first; `before` pages on (an id). */
  async list({ limit, before }: { limit: number; before?: number }): Promise<Page<RecordedAuditSummary>> {
    const rows = await this.store.audits.list({ limit: limit + 1, ...(before !== undefined ? { before } : {}) });
    return { items: rows.slice(0, limit).map(recordedSummary), truncated: rows.length > limit };
  }

  /** A recorded audit, and what changed since the audit `since` when given (NotFoundError for either unknown). */
  async recorded(id: number, { since }: { since?: number } = {}): Promise<RecordedAudit> {
    const record = await this.store.audits.get(id);
    if (!record) throw new NotFoundError(`unknown audit ${id}: GET /api/v1/audits lists the recorded ones`);
    const report = record.report as AuditReport;
    const recorded: RecordedAudit = { audit: { id: record.id, at: record.at, author: record.author }, report };
    if (since !== undefined) {
      const earlier = await this.store.audits.get(since);
      if (!earlier) {
        throw new NotFoundError(
          `unknown audit ${since} (query parameter \`since\`): GET /api/v1/audits lists the recorded ones`,
        );
      }
      recorded.since = auditSince(earlier.report as AuditReport, report, earlier.id);
    }
    return recorded;
  }

  /** The audited environments in audit order, and the known ones a default audit leaves out. */
  private selectEnvironments(
    environments: readonly string[] | undefined,
    promotion: readonly string[],
  ): { selected: string[]; withoutHosts: string[] } {
    if (environments !== undefined) {
      const names = [...new Set(environments)];
      const known = new Set(this.queries.catalog.environments());
      const unknown = names.filter((name) => !known.has(name));
      if (unknown.length === 1) knownEnvironmentOr404(this.queries.catalog, unknown[0] as string);
      if (unknown.length > 1) {
        throw new NotFoundError(
          `unknown environments ${unknown.map((name) => JSON.stringify(name)).join(', ')}; known: ${[...known].sort(compareStrings).join(', ')}`,
        );
      }
      if (names.length < 2) {
        throw new InvalidRequestError(
          '`environments`: an audit compares pairs: name at least two environments, comma-separated (or leave it out for all)',
          'environments',
        );
      }
      return { selected: sortEnvironments(names, promotion), withoutHosts: [] };
    }
    const all = sortEnvironments(this.queries.catalog.environments(), promotion);
    const selected = all.filter((name) => this.queries.environment(name).hosts.length > 0);
    const withoutHosts = all.filter((name) => !selected.includes(name));
    if (selected.length < 2) {
      throw new InvalidRequestError(
        `\`environments\`: an audit compares pairs of environments, and ${
          selected.length === 0 ? 'no environment has' : `only ${selected[0]} has`
        } hosts reporting facts; name two environments to audit them anyway`,
        'environments',
      );
    }
    return { selected, withoutHosts };
  }
}

function countStatuses(differences: readonly { status: keyof AuditCounts }[]): AuditCounts {
  const counts = emptyAuditCounts();
  for (const { status } of differences) counts[status]++;
  return counts;
}

function openCount(counts: AuditCounts): number {
  let open = 0;
  for (const status of OPEN_AUDIT_STATUSES) open += counts[status];
  return open;
}

function recordedSummary(row: AuditRecordSummary): RecordedAuditSummary {
  const summary = row.summary as StoredSummary;
  const out: RecordedAuditSummary = {
    id: row.id,
    at: row.at,
    author: row.author,
    environments: row.environments,
    counts: summary.counts,
    open: summary.open,
    pairs: summary.pairs,
  };
  if (summary.note !== undefined) out.note = summary.note;
  return out;
}
