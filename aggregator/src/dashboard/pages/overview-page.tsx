/**
 * `/`: the fleet at a glance. Environments in promotion order with their health, a parity matrix
 * of every pair (each cell opens that compare), the changes waiting for promotion, the newest drift
 * and the exceptions that need attention soon.
 */
import type { DriftEventRecord } from '../../drift/events.js';
import type { EnvironmentSummary } from '../../queries/fleet-queries.js';
import type { PromotionBacklog } from '../../queries/promotion-queries.js';
import type { PageRouter } from '../dashboard-env.js';
import { href, percent, StatusBadge, shortFingerprint } from '../format.js';
import { Live, Wide } from '../layout.js';
import { renderPage } from '../render-page.js';
import { COUNTS_AS_DRIFT } from './compare-results.js';
import { DriftEventsTable } from './drift-events-table.js';
import { exceptionStatus } from './exception-table.js';
import type { PageDeps } from './index.js';
import { ageText } from './promotion-tables.js';

/** Past this many environments the matrix shows the first ones only (per-PR environments can be thousands). */
export const MATRIX_MAX_ENVIRONMENTS = 12;

interface ParityCell {
  parity: number;
  drift: number;
}

export function registerOverviewPage(router: PageRouter, { queries, promotion, now }: PageDeps): void {
  router.get('/', async (c) => {
    const environments = await queries.environments();
    const withHosts = environments.filter((summary) => summary.state.hosts.length > 0);
    const matrixNames = withHosts.slice(0, MATRIX_MAX_ENVIRONMENTS).map((summary) => summary.name);
    const parity = new Map<string, ParityCell>();
    for (const [index, from] of matrixNames.entries()) {
      for (const to of matrixNames.slice(index + 1)) {
        const comparison = await queries.compare({ environment: from }, { environment: to });
        const cell = {
          parity: comparison.parity,
          drift: comparison.differences.filter((d) => COUNTS_AS_DRIFT.has(d.status)).length,
        };
        parity.set(`${from}\u0000${to}`, cell);
        parity.set(`${to}\u0000${from}`, cell);
      }
    }
    const backlog = await promotion.backlog();
    const events = await queries.driftEvents({ limit: 10 });
    const exceptions = await queries.exceptions();
    const at = now();
    const statuses = exceptions.map((exception) => exceptionStatus(exception, at));
    const expired = statuses.filter((status) => status === 'expired').length;
    const expiringSoon = statuses.filter((status) => status === 'expiring').length;
    return renderPage(c, {
      title: 'Overview',
      section: 'overview',
      body: (
        <>
          <h1>Overview</h1>
          <Live id="overview-environments">
            <EnvironmentCards environments={environments} parity={parity} />
            <h2>Parity matrix</h2>
            {matrixNames.length < 2 ? (
              <p class="muted">Two environments with reporting hosts are needed for a matrix.</p>
            ) : (
              <ParityMatrix names={matrixNames} parity={parity} />
            )}
            {withHosts.length > MATRIX_MAX_ENVIRONMENTS && (
              <p class="muted">
                The matrix shows the first {MATRIX_MAX_ENVIRONMENTS} of {withHosts.length} environments; compare any two
                on the <a href="/compare">compare page</a>.
              </p>
            )}
          </Live>
          <Live id="overview-activity">
            {backlog && <PromotionLine backlog={backlog} now={now()} />}
            <h2>
              Newest drift{' '}
              <small>
                (<a href="/drift">all drift</a>)
              </small>
            </h2>
            {events.items.length === 0 ? (
              <p class="muted">No drift events yet.</p>
            ) : (
              <DriftEventsTable events={events.items} now={at} />
            )}
            <h2>Exceptions</h2>
            <p>
              <a href="/exceptions?show=expiring">
                <StatusBadge
                  status={expiringSoon > 0 ? 'expiring' : 'ok'}
                  label={`${expiringSoon} expiring within 7 days`}
                />
              </a>{' '}
              <a href="/exceptions?show=expired">
                <StatusBadge status={expired > 0 ? 'expired' : 'ok'} label={`${expired} expired`} />
              </a>{' '}
              <span class="muted">of {exceptions.length} exceptions</span>
            </p>
          </Live>
        </>
      ),
    });
  });
}

/** "N changes waiting, oldest X days", per adjacent pair in the link titles; only with a promotion order. */
const PromotionLine = ({ backlog, now }: { backlog: PromotionBacklog; now: number }) => {
  const oldest =
    backlog.oldestSince === null
      ? ''
      : `, oldest ${ageText(Math.max(0, Math.floor((now - backlog.oldestSince) / 1000)))}`;
  const perPair = backlog.pairs.map((pair) => `${pair.from} → ${pair.to}: ${pair.waiting}`).join(', ');
  return (
    <>
      <h2>Promotion</h2>
      <p>
        <a href="/promotion" title={perPair}>
          <StatusBadge
            status={backlog.waiting > 0 ? 'drift' : 'ok'}
            label={`${backlog.waiting} ${backlog.waiting === 1 ? 'change' : 'changes'} waiting${oldest}`}
          />
        </a>{' '}
        <span class="muted">({perPair})</span>
      </p>
    </>
  );
};

const EnvironmentCards = ({
  environments,
  parity,
}: {
  environments: EnvironmentSummary[];
  parity: Map<string, ParityCell>;
}) => {
  if (environments.length === 0) {
    return (
      <p class="muted">
        No environment yet: start an agent with <code>--environment NAME</code>.
      </p>
    );
  }
  return (
    <div class="cards">
      {environments.map(({ name, state, upstream, openDrift, outlierHosts }) => {
        const upstreamParity = upstream === null ? undefined : parity.get(`${upstream}\u0000${name}`);
        return (
          <article class="card">
            <h3>
              <a href={`/environments/${encodeURIComponent(name)}`}>{name}</a>
              {state.baseline.stale && state.hosts.length > 0 && (
                <>
                  {' '}
                  <StatusBadge status="stale" />
                </>
              )}
            </h3>
            <dl>
              <dt>hosts</dt>
              <dd>
                <a href={href('/hosts', { env: name })}>
                  {state.online} online / {state.hostCount}
                </a>
              </dd>
              <dt>fingerprint</dt>
              <dd class="mono">{state.hosts.length > 0 ? shortFingerprint(state.baseline.fingerprint) : '—'}</dd>
              <dt>upstream</dt>
              <dd>
                {upstream === null ? (
                  <span class="muted">none</span>
                ) : (
                  <a href={href('/compare', { from: upstream, to: name })}>
                    {upstream}: {upstreamParity ? percent(upstreamParity.parity) : 'no hosts'}
                  </a>
                )}
              </dd>
              <dt>open drift</dt>
              <dd>
                <a href={href('/drift', { status: 'open', env: name })}>
                  <StatusBadge status={openDrift > 0 ? 'drift' : 'ok'} label={String(openDrift)} />
                </a>
              </dd>
              <dt>outlier hosts</dt>
              <dd>{outlierHosts}</dd>
              <dt>ties</dt>
              <dd>{state.baseline.ties.length}</dd>
            </dl>
          </article>
        );
      })}
    </div>
  );
};

const ParityMatrix = ({ names, parity }: { names: string[]; parity: Map<string, ParityCell> }) => (
  <Wide>
    <table class="matrix">
      <thead>
        <tr>
          <th>from \ to</th>
          {names.map((name) => (
            <th>{name}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {names.map((from) => (
          <tr>
            <th>{from}</th>
            {names.map((to) => {
              if (from === to) return <td class="muted">—</td>;
              const cell = parity.get(`${from}\u0000${to}`);
              if (!cell) return <td class="muted">?</td>;
              return (
                <td>
                  <a href={href('/compare', { from, to })}>{percent(cell.parity)}</a>
                  <br />
                  <StatusBadge
                    status={cell.drift > 0 ? 'drift' : 'equal'}
                    label={cell.drift > 0 ? `${cell.drift} drift` : 'parity'}
                  />
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  </Wide>
);

export type { DriftEventRecord };
