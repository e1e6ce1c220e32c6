/**
 * The parts of the audit page: summary cards, the pairs table, the since-diff, the causes, the
 * outlier groups and one section per pair (rows filtered by status, capped; the exports hold all).
 */
import {
  AUDIT_STATUSES,
  type AuditChange,
  type AuditException,
  type AuditReport,
  type AuditSince,
  type RecordedAuditSummary,
} from '../../queries/audit-report.js';
import { FactValueView, href, isoTime, percent, StatusBadge } from '../format.js';
import { Wide } from '../layout.js';
import { AUDIT_STATUS_FILTERS, type AuditPageParams, auditPageHref, keepsStatus } from './audit-params.js';
import { ExceptionFacts } from './compare-results.js';

/** Rows shown per pair; the exports have every row. */
export const AUDIT_ROWS_PER_PAIR = 500;

export const AuditCards = ({ report }: { report: AuditReport }) => {
  const { counts, open } = report.summary;
  return (
    <div class="cards">
      <article class="card">
        <h3>open</h3>
        <p>
          <StatusBadge status={open > 0 ? 'drift' : 'ok'} label={String(open)} /> drift or expired: remediate or justify
        </p>
      </article>
      {AUDIT_STATUSES.map((status) => (
        <article class="card">
          <h3>{status}</h3>
          <p>
            <StatusBadge status={status} label={String(counts[status])} />
          </p>
        </article>
      ))}
    </div>
  );
};

export const PairsTable = ({ report }: { report: AuditReport }) => (
  <Wide>
    <table>
      <thead>
        <tr>
          <th>pair</th>
          <th>kind</th>
          <th class="num">parity</th>
          {AUDIT_STATUSES.map((status) => (
            <th class="num">{status}</th>
          ))}
          <th>compare</th>
        </tr>
      </thead>
      <tbody>
        {report.summary.pairs.map((pair, index) => (
          <tr>
            <td>
              <a href={`#pair-${index + 1}`}>{`${pair.from} → ${pair.to}`}</a>
            </td>
            <td>{pair.kind}</td>
            <td class="num">{percent(pair.parity)}</td>
            {AUDIT_STATUSES.map((status) => (
              <td class="num">{pair.counts[status]}</td>
            ))}
            <td>
              <a href={href('/compare', { from: pair.from, to: pair.to })}>now</a>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  </Wide>
);

const StateView = ({ state }: { state: AuditChange['earlier'] }) =>
  state === undefined ? (
    <span class="muted">no difference</span>
  ) : (
    <>
      <StatusBadge status={state.status} /> <FactValueView value={state.from} /> → <FactValueView value={state.to} />
    </>
  );

export const SinceSection = ({ since }: { since: AuditSince }) => {
  const lists: [string, AuditChange[]][] = [
    ['new', since.new],
    ['remediated', since.remediated],
    ['newly justified', since.newlyJustified],
    ['still open', since.stillOpen],
  ];
  return (
    <section>
      <h2>Since audit #{since.audit}</h2>
      <p data-since-counts="">
        <strong>{since.counts.new}</strong> new, <strong>{since.counts.remediated}</strong> remediated,{' '}
        <strong>{since.counts.newlyJustified}</strong> newly justified, <strong>{since.counts.stillOpen}</strong> still
        open
      </p>
      {lists.map(([title, changes]) =>
        changes.length === 0 ? null : (
          <>
            <h3>
              {title} ({changes.length})
            </h3>
            <Wide>
              <table>
                <thead>
                  <tr>
                    <th>pair</th>
                    <th>path</th>
                    <th>then</th>
                    <th>now</th>
                  </tr>
                </thead>
                <tbody>
                  {changes.map((change) => (
                    <tr>
                      <td>{`${change.from} → ${change.to}`}</td>
                      <td class="path">{change.path}</td>
                      <td>
                        <StateView state={change.earlier} />
                      </td>
                      <td>
                        <StateView state={change.later} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Wide>
          </>
        ),
      )}
      {since.notCompared.length > 0 && (
        <p class="muted">
          Not compared (in one audit only):{' '}
          {since.notCompared.map((pair) => `${pair.from} → ${pair.to} (${pair.in} only)`).join(', ')}
        </p>
      )}
    </section>
  );
};

export const CausesTable = ({ report }: { report: AuditReport }) => {
  const { causes } = report.summary;
  if (causes.length === 0) return <p class="muted">No differences between the audited environments.</p>;
  return (
    <Wide>
      <table>
        <thead>
          <tr>
            <th>path</th>
            <th>from</th>
            <th>to</th>
            <th>status</th>
            <th>pairs</th>
          </tr>
        </thead>
        <tbody>
          {causes.map((cause) => (
            <tr>
              <td class="path">
                <a href={href('/facts', { path: cause.path })}>{cause.path}</a>
              </td>
              <td class="value">
                <FactValueView value={cause.from} />
              </td>
              <td class="value">
                <FactValueView value={cause.to} />
              </td>
              <td>
                <StatusBadge status={cause.status} />
              </td>
              <td>
                {cause.pairs.map((pair, index) => (
                  <>
                    {index > 0 && <br />}
                    <a href={href('/compare', { from: pair.from, to: pair.to })}>{`${pair.from} → ${pair.to}`}</a>{' '}
                    <small class="muted">{pair.status}</small>
                  </>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Wide>
  );
};

export const OutliersSection = ({ report }: { report: AuditReport }) => {
  const withGroups = report.summary.outliers.filter((entry) => entry.groups.length > 0);
  if (withGroups.length === 0) return <p class="muted">Every host matches its environment’s baseline.</p>;
  return (
    <>
      {withGroups.map((entry) => (
        <section>
          <h3>
            <a href={`/environments/${encodeURIComponent(entry.environment)}`}>{entry.environment}</a>{' '}
            <small class="muted">
              {entry.outlierHosts} of {entry.hosts} hosts off the baseline
              {entry.totalGroups > entry.groups.length &&
                `; the ${entry.groups.length} largest of ${entry.totalGroups} groups`}
            </small>
          </h3>
          <Wide>
            <table>
              <thead>
                <tr>
                  <th class="num">hosts</th>
                  <th>path</th>
                  <th>baseline</th>
                  <th>hosts have</th>
                  <th>status</th>
                  <th>first hosts</th>
                </tr>
              </thead>
              <tbody>
                {entry.groups.map((group) => (
                  <tr>
                    <td class="num">{group.hostCount}</td>
                    <td class="path">{group.path}</td>
                    <td class="value">
                      <FactValueView value={group.expected} />
                    </td>
                    <td class="value">
                      <FactValueView value={group.actual} />
                    </td>
                    <td>
                      <StatusBadge status={group.status} />
                    </td>
                    <td class="mono">
                      {group.hosts.map((host, index) => (
                        <>
                          {index > 0 && ', '}
                          <a href={`/hosts/${encodeURIComponent(host)}`}>{host}</a>
                        </>
                      ))}
                      {group.hostCount > group.hosts.length && ', …'}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Wide>
        </section>
      ))}
    </>
  );
};

const ExceptionNote = ({ exception, now }: { exception: AuditException | undefined; now: number }) =>
  exception === undefined ? null : (
    <span>
      {exception.reason}
      <br />
      <ExceptionFacts exception={exception} now={now} />
    </span>
  );

const StatusFilter = ({ params }: { params: AuditPageParams }) => (
  <nav class="filters" aria-label="status filter">
    Show:{' '}
    {AUDIT_STATUS_FILTERS.map((status, index) => (
      <>
        {index > 0 && ' · '}
        <a
          href={`${auditPageHref(params, { status })}#pairs`}
          aria-current={status === params.status ? 'true' : undefined}
        >
          {status}
        </a>
      </>
    ))}
  </nav>
);

export const PairSections = ({
  report,
  params,
  now,
}: {
  report: AuditReport;
  params: AuditPageParams;
  now: number;
}) => (
  <>
    <StatusFilter params={params} />
    {report.pairs.map((pair, index) => {
      const kept = pair.differences.filter((difference) => keepsStatus(difference.status, params.status));
      const shown = kept.slice(0, AUDIT_ROWS_PER_PAIR);
      return (
        <section id={`pair-${index + 1}`}>
          <h3>
            {`${pair.from} → ${pair.to}`}{' '}
            <small class="muted">
              {pair.kind} · parity {percent(pair.parity)} · {kept.length} of {pair.differences.length} differences
            </small>
          </h3>
          {kept.length === 0 ? (
            <p class="muted">
              {pair.differences.length === 0 ? 'No differences: every compared path is equal.' : 'None of this status.'}
            </p>
          ) : (
            <Wide>
              <table>
                <thead>
                  <tr>
                    <th>path</th>
                    <th>from {pair.from}</th>
                    <th>to {pair.to}</th>
                    <th>status</th>
                    <th>action</th>
                    <th>exception</th>
                  </tr>
                </thead>
                <tbody>
                  {shown.map((difference) => (
                    <tr>
                      <td class="path">{difference.path}</td>
                      <td class="value">
                        <FactValueView value={difference.from} />
                      </td>
                      <td class="value">
                        <FactValueView value={difference.to} />
                      </td>
                      <td>
                        <StatusBadge status={difference.status} />
                        {difference.secretPolicy && <small class="muted"> policy: {difference.secretPolicy}</small>}
                        {difference.tie && (
                          <>
                            {' '}
                            <StatusBadge status="tie" />
                          </>
                        )}
                      </td>
                      <td>{difference.action ?? ''}</td>
                      <td>
                        <ExceptionNote exception={difference.exception} now={now} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Wide>
          )}
          {kept.length > shown.length && (
            <p class="muted">
              The first {shown.length} of {kept.length}; the exports have every row.
            </p>
          )}
        </section>
      );
    })}
  </>
);

export const RecordedAuditsTable = ({
  audits,
  current,
}: {
  audits: readonly RecordedAuditSummary[];
  current: number | undefined;
}) => {
  if (audits.length === 0) return <p class="muted">No audit recorded yet.</p>;
  return (
    <Wide>
      <table>
        <thead>
          <tr>
            <th>audit</th>
            <th>at</th>
            <th>by</th>
            <th>environments</th>
            <th class="num">open</th>
            <th>note</th>
            <th>what changed</th>
          </tr>
        </thead>
        <tbody>
          {audits.map((audit, index) => {
            const previous = audits[index + 1];
            return (
              <tr aria-current={audit.id === current ? 'true' : undefined}>
                <td>
                  <a href={href('/audit', { id: audit.id })}>#{audit.id}</a>
                </td>
                <td>{isoTime(audit.at)}</td>
                <td>{audit.author}</td>
                <td>{audit.environments.join(', ')}</td>
                <td class="num">{audit.open}</td>
                <td>{audit.note ?? ''}</td>
                <td>
                  {previous === undefined ? (
                    <span class="muted">first shown</span>
                  ) : (
                    <a href={href('/audit', { id: audit.id, since: previous.id })}>since #{previous.id}</a>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </Wide>
  );
};
