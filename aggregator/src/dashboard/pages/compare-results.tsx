/**
 * One comparison as the compare page shows it: the parity score, the two sides, and the
 * differences the filters keep, one page of them, under a heading per category. A justified row
 * says which exception justifies it (reason, owner, expiry); a drift row offers admins "Justify".
 */
import { type ComparedDifference, DIFFERENCE_STATUS_ORDER, type DifferenceStatus } from '@envparity/shared';
import { SECURITY_SECTION_NOTE } from '../../audit-export/audit-export.js';
import type { CompareSide, Comparison } from '../../queries/compare-sides.js';
import type { ExceptionRecord } from '../../store/fact-store.js';
import { FactValueView, href, isoTime, percent, StatusBadge, shortFingerprint, TimeAgo } from '../format.js';
import { Wide } from '../layout.js';
import { type CompareFilters, compareHref, filterParams, type StatusFilter } from './compare-params.js';

/** Statuses that lower parity (and that an exception can justify). */
export const COUNTS_AS_DRIFT: ReadonlySet<DifferenceStatus> = new Set(['drift', 'secret-policy']);

export function keepsDifference(difference: ComparedDifference, status: StatusFilter, q: string | undefined): boolean {
  if (q !== undefined && !difference.path.toLowerCase().includes(q.toLowerCase())) return false;
  if (status === 'all') return true;
  if (status === 'drift') return COUNTS_AS_DRIFT.has(difference.status);
  return difference.status === status;
}

type StatusCounts = Partial<Record<DifferenceStatus, number>>;

function countStatuses(differences: readonly ComparedDifference[]): StatusCounts {
  const counts: StatusCounts = {};
  for (const { status } of differences) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

export interface CompareResultsProps {
  comparison: Comparison;
  filters: CompareFilters;
  /** Exceptions by id, for the justified rows. */
  exceptions: ReadonlyMap<string, ExceptionRecord>;
  canJustify: boolean;
  now: number;
}

export const CompareResults = ({ comparison, filters, exceptions, canJustify, now }: CompareResultsProps) => {
  const { differences, compared, parity, from, to } = comparison;
  const kept = differences.filter((difference) => keepsDifference(difference, filters.status, filters.q));
  const start = (filters.page - 1) * filters.limit;
  const shown = kept.slice(start, start + filters.limit);
  const tied = new Set([...from.ties, ...to.ties].map((tie) => tie.path));
  const equalOrJustified = compared - differences.filter((d) => COUNTS_AS_DRIFT.has(d.status)).length;
  const perCategory = new Map<string, ComparedDifference[]>();
  for (const difference of kept) {
    const list = perCategory.get(difference.category);
    if (list) list.push(difference);
    else perCategory.set(difference.category, [difference]);
  }
  const row = (difference: ComparedDifference) => (
    <DifferenceRow
      difference={difference}
      tie={tied.has(difference.path)}
      filters={filters}
      exceptions={exceptions}
      canJustify={canJustify}
      now={now}
    />
  );
  return (
    <>
      <p>
        <strong data-parity={String(parity)}>{percent(parity)}</strong> parity:{' '}
        <span>
          {equalOrJustified} of {compared} behavior paths equal or justified
        </span>
        {filters.categories && <span class="muted"> (categories {filters.categories.join(', ')})</span>}
      </p>
      <StatusSummary counts={countStatuses(differences)} filters={filters} />
      <SidesTable from={from} to={to} />
      <h2>
        Differences{' '}
        <small class="muted">
          (
          {kept.length === differences.length
            ? `${kept.length}`
            : `${kept.length} of ${differences.length} match the filters`}
          )
        </small>
      </h2>
      {kept.length === 0 && (
        <p class="muted">
          {differences.length === 0
            ? 'No differences: every compared path is equal.'
            : 'No difference matches these filters.'}
        </p>
      )}
      {groupByCategory(shown).map(([category, rows]) => (
        <section>
          <h3>
            {category} <CategoryCounts counts={countStatuses(perCategory.get(category) ?? rows)} />
            {category === 'security' && <small class="muted"> {SECURITY_SECTION_NOTE}</small>}
          </h3>
          <Wide>
            <table>
              <thead>
                <tr>
                  <th>path</th>
                  <th>from {from.label}</th>
                  <th>to {to.label}</th>
                  <th>status</th>
                  <th>why / action</th>
                </tr>
              </thead>
              <tbody>{rows.map(row)}</tbody>
            </table>
          </Wide>
        </section>
      ))}
      <Pager filters={filters} total={kept.length} />
    </>
  );
};

/** Paths sort by category first (the category is the first segment), so a page's groups are runs. */
function groupByCategory(rows: readonly ComparedDifference[]): [string, ComparedDifference[]][] {
  const groups: [string, ComparedDifference[]][] = [];
  for (const row of rows) {
    const last = groups[groups.length - 1];
    if (last && last[0] === row.category) last[1].push(row);
    else groups.push([row.category, [row]]);
  }
  return groups;
}

const CategoryCounts = ({ counts }: { counts: StatusCounts }) => (
  <small class="muted">
    {DIFFERENCE_STATUS_ORDER.filter((status) => counts[status] !== undefined)
      .map((status) => `${counts[status]} ${status}`)
      .join(', ')}
  </small>
);

const StatusSummary = ({ counts, filters }: { counts: StatusCounts; filters: CompareFilters }) => (
  <p>
    {DIFFERENCE_STATUS_ORDER.filter((status) => status !== 'secret-policy' || counts[status] !== undefined).map(
      (status) => (
        <>
          <a href={compareHref(filters, { status, page: 1 })}>
            <StatusBadge status={status} label={`${counts[status] ?? 0} ${status}`} />
          </a>{' '}
        </>
      ),
    )}
  </p>
);

const SideLink = ({ side }: { side: CompareSide }) =>
  side.kind === 'host' ? (
    <a href={`/hosts/${encodeURIComponent(side.name)}`}>{side.name}</a>
  ) : (
    <a href={`/environments/${encodeURIComponent(side.name)}`}>{side.name}</a>
  );

const SidesTable = ({ from, to }: { from: CompareSide; to: CompareSide }) => (
  <Wide>
    <table>
      <thead>
        <tr>
          <th>side</th>
          <th>name</th>
          <th>kind</th>
          <th>environment</th>
          <th>fingerprint</th>
          <th class="num">tied paths</th>
        </tr>
      </thead>
      <tbody>
        {[['from', from] as const, ['to', to] as const].map(([role, side]) => (
          <tr>
            <td>{role}</td>
            <td>
              <SideLink side={side} />
            </td>
            <td>{side.kind}</td>
            <td>
              {side.environment === null ? (
                <span class="muted">none</span>
              ) : (
                <a href={`/environments/${encodeURIComponent(side.environment)}`}>{side.environment}</a>
              )}
            </td>
            <td class="mono" title={side.fingerprint ?? undefined}>
              {shortFingerprint(side.fingerprint)}
            </td>
            <td class="num">{side.ties.length}</td>
          </tr>
        ))}
      </tbody>
    </table>
  </Wide>
);

interface DifferenceRowProps {
  difference: ComparedDifference;
  tie: boolean;
  filters: CompareFilters;
  exceptions: ReadonlyMap<string, ExceptionRecord>;
  canJustify: boolean;
  now: number;
}

const DifferenceRow = ({ difference, tie, filters, exceptions, canJustify, now }: DifferenceRowProps) => (
  <tr>
    <td class="path">
      <a href={href('/facts', { path: difference.path })}>{difference.path}</a>
      {tie && (
        <>
          {' '}
          <StatusBadge status="tie" label="tie" />
        </>
      )}
    </td>
    <td class="value">
      <FactValueView value={difference.from} />
    </td>
    <td class="value">
      <FactValueView value={difference.to} />
    </td>
    <td>
      <StatusBadge status={difference.status} />
      {difference.secretPolicy && <small class="muted"> policy: {difference.secretPolicy}</small>}
    </td>
    <td>
      {difference.exception ? (
        <Justification exception={difference.exception} record={exceptions.get(difference.exception.id)} now={now} />
      ) : canJustify && COUNTS_AS_DRIFT.has(difference.status) ? (
        <a class="button" href={href('/compare/justify', { ...filterParams(filters), path: difference.path })}>
          Justify
        </a>
      ) : null}
    </td>
  </tr>
);

const Justification = ({
  exception,
  record,
  now,
}: {
  exception: { id: string; reason: string };
  record: ExceptionRecord | undefined;
  now: number;
}) => (
  <span>
    {record?.reason ?? exception.reason}
    {record && (
      <>
        <br />
        <ExceptionFacts exception={record} now={now} />
      </>
    )}
  </span>
);

const Pager = ({ filters, total }: { filters: CompareFilters; total: number }) => {
  const pages = Math.max(1, Math.ceil(total / filters.limit));
  if (pages === 1) return null;
  return (
    <nav class="pager" aria-label="pages">
      {filters.page > 1 ? (
        <a href={compareHref(filters, { page: filters.page - 1 })}>previous</a>
      ) : (
        <span class="muted">previous</span>
      )}
      <span>
        page {filters.page} of {pages}
      </span>
      {filters.page < pages ? (
        <a href={compareHref(filters, { page: filters.page + 1 })}>next</a>
      ) : (
        <span class="muted">next</span>
      )}
    </nav>
  );
};

/** An exception's owner, expiry and glob, under its reason (compare and audit rows). */
export const ExceptionFacts = ({
  exception,
  now,
}: {
  exception: { owner?: string | null; expiresAt: number | null; path: string };
  now: number;
}) => (
  <small class="muted">
    owner {exception.owner ?? '—'} · expires{' '}
    {exception.expiresAt === null ? (
      'never'
    ) : (
      <>
        {isoTime(exception.expiresAt)} (<TimeAgo at={exception.expiresAt} now={now} />)
      </>
    )}{' '}
    · glob <span class="mono">{exception.path}</span>
  </small>
);
