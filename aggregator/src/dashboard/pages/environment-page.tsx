/**
 * `/environments/:env`: one environment. Its hosts and baseline fingerprint with the compares
 * upstream and downstream; its outlier hosts grouped by the difference they share (GET
 * /api/v1/environments/:env/outliers, one row per cause instead of one per host and path); its
 * baseline (GET /api/v1/environments/:env/baseline) by category, searchable, with the tied paths.
 *
 * Parameters: `q` (search the baseline's paths), `cat` (show one category whole), `scale=1` (scale
 * outliers too), `groups` (how many outlier groups; 10,000 hosts are capped, never listed).
 */

import { InvalidRequestError } from '../../errors.js';
import type { EnvironmentSummary, OutlierCauseGroups } from '../../queries/fleet-queries.js';
import type { PageRouter } from '../dashboard-env.js';
import { href, StatusBadge, shortFingerprint } from '../format.js';
import { Live, Notice } from '../layout.js';
import { renderPage } from '../render-page.js';
import { AuditExportLinks } from './audit-export-links.js';
import { BaselineCategories, type BaselineView, TiesTable } from './environment-baseline.js';
import type { PageDeps } from './index.js';
import { OutlierGroupsSection } from './outlier-groups-table.js';

export const DEFAULT_OUTLIER_GROUPS = 20;
export const MAX_OUTLIER_GROUPS = 500;
/** Hosts named per outlier group; the rest are a link to the host list. */
export const HOSTS_PER_GROUP = 10;
const MAX_SEARCH_CHARS = 200;

export interface EnvironmentPageParams {
  q: string;
  cat?: string;
  scale: boolean;
  groups: number;
}

/** Query parameters of the page; InvalidRequestError naming the parameter when one is malformed. */
export function parseEnvironmentParams(query: Record<string, string | undefined>): EnvironmentPageParams {
  const q = (query.q ?? '').trim();
  if (q.length > MAX_SEARCH_CHARS) throw new InvalidRequestError(`q: at most ${MAX_SEARCH_CHARS} characters`, 'q');
  const cat = query.cat?.trim() || undefined;
  if (cat !== undefined && !/^[A-Za-z0-9_-]+$/.test(cat)) {
    throw new InvalidRequestError('cat: expected a category name such as library or config', 'cat');
  }
  const scaleText = query.scale ?? '';
  if (!['', '0', '1'].includes(scaleText)) throw new InvalidRequestError('scale: expected 1 or 0', 'scale');
  const groupsText = query.groups?.trim() || String(DEFAULT_OUTLIER_GROUPS);
  const groups = Number(groupsText);
  if (!/^\d+$/.test(groupsText) || groups < 1 || groups > MAX_OUTLIER_GROUPS) {
    throw new InvalidRequestError(`groups: expected a whole number from 1 to ${MAX_OUTLIER_GROUPS}`, 'groups');
  }
  return { q, ...(cat !== undefined ? { cat } : {}), scale: scaleText === '1', groups };
}

/** This page with its parameters, some changed (defaults left out of the URL). */
function pageHref(
  environment: string,
  params: EnvironmentPageParams,
  changes: Partial<EnvironmentPageParams> = {},
): string {
  const next = { ...params, ...changes };
  return href(`/environments/${encodeURIComponent(environment)}`, {
    q: next.q,
    cat: next.cat,
    scale: next.scale ? 1 : undefined,
    groups: next.groups === DEFAULT_OUTLIER_GROUPS ? undefined : next.groups,
  });
}

export function registerEnvironmentPage(router: PageRouter, { queries }: PageDeps): void {
  router.get('/environments/:env', async (c) => {
    const params = parseEnvironmentParams(c.req.query());
    const summary = await queries.environmentSummary(c.req.param('env') ?? '');
    const { name, state } = summary;
    const outliers = await queries.outlierGroups(name, {
      includeScale: params.scale,
      limit: params.groups,
      hostsPerGroup: HOSTS_PER_GROUP,
    });
    return renderPage(c, {
      title: `Environment ${name}`,
      section: 'environments',
      body: (
        <>
          <h1>
            Environment <code>{name}</code>
            {state.baseline.stale && state.hosts.length > 0 && (
              <>
                {' '}
                <StaleBadge />
              </>
            )}
          </h1>
          <Live id="environment-summary">
            <EnvironmentFacts summary={summary} />
          </Live>
          {state.hosts.length > 0 && (
            <AuditExportLinks params={{ pairsWith: name }} label={`Export the audit of every pair with ${name}`} />
          )}
          {state.hosts.length === 0 ? (
            <Notice>
              No host of this environment has reported facts yet: it has no baseline and no outlier. Start an agent with{' '}
              <code>--environment {name}</code>.
            </Notice>
          ) : (
            <EnvironmentDetails
              name={name}
              summary={summary}
              outliers={outliers}
              params={params}
              classify={queries.classify}
            />
          )}
        </>
      ),
    });
  });
}

const StaleBadge = () => (
  <span title="No host of the baseline is online: it is made of their last known facts.">
    <StatusBadge status="stale" />
  </span>
);

const EnvironmentFacts = ({ summary }: { summary: EnvironmentSummary }) => {
  const { name, state, upstream, downstream, openDrift, outlierHosts } = summary;
  const hasBaseline = state.hosts.length > 0;
  return (
    <div class="cards">
      <article class="card">
        <dl>
          <dt>hosts</dt>
          <dd>
            <a href={href('/hosts', { env: name })}>
              {state.online} online / {state.hostCount}
            </a>
          </dd>
          <dt>baseline</dt>
          <dd>
            {hasBaseline ? (
              <>
                <span class="mono" title={state.baseline.fingerprint}>
                  {shortFingerprint(state.baseline.fingerprint)}
                </span>{' '}
                <span class="muted">
                  from {state.baseline.hosts} {state.baseline.hosts === 1 ? 'host' : 'hosts'}
                </span>
                {state.baseline.stale && (
                  <>
                    {' '}
                    <StaleBadge />
                  </>
                )}
              </>
            ) : (
              <span class="muted">none yet</span>
            )}
          </dd>
          <dt>upstream</dt>
          <dd>
            {upstream === null ? (
              <span class="muted">none</span>
            ) : (
              <a href={href('/compare', { from: upstream, to: name })}>compare with {upstream}</a>
            )}
          </dd>
          <dt>downstream</dt>
          <dd>
            {downstream === null ? (
              <span class="muted">none</span>
            ) : (
              <a href={href('/compare', { from: name, to: downstream })}>compare with {downstream}</a>
            )}
          </dd>
        </dl>
      </article>
      <article class="card">
        <dl>
          <dt>open drift</dt>
          <dd>
            <a href={href('/drift', { status: 'open', env: name })}>
              <StatusBadge status={openDrift > 0 ? 'drift' : 'ok'} label={String(openDrift)} />
            </a>
          </dd>
          <dt>drifting hosts</dt>
          <dd>{outlierHosts}</dd>
          <dt>tied paths</dt>
          <dd>{state.baseline.ties.length}</dd>
          <dt>baseline paths</dt>
          <dd>{Object.keys(state.baseline.facts).length}</dd>
        </dl>
      </article>
    </div>
  );
};

interface DetailsProps {
  name: string;
  summary: EnvironmentSummary;
  outliers: OutlierCauseGroups;
  params: EnvironmentPageParams;
  classify: PageDeps['queries']['classify'];
}

const EnvironmentDetails = ({ name, summary, outliers, params, classify }: DetailsProps) => {
  const moreGroups = Math.min(params.groups * 2, MAX_OUTLIER_GROUPS);
  const view: BaselineView = {
    environment: name,
    q: params.q,
    ...(params.cat !== undefined ? { cat: params.cat } : {}),
    link: (changes) => pageHref(name, params, changes),
  };
  const { baseline } = summary.state;
  return (
    <>
      <h2>Outlier hosts</h2>
      <p class="muted">
        Hosts that differ from the baseline, grouped by the difference they share.{' '}
        {params.scale ? (
          <a href={pageHref(name, params, { scale: false })}>Behavior differences only</a>
        ) : (
          <a href={pageHref(name, params, { scale: true })}>Include scale differences</a>
        )}
        {' · '}
        <a href={href('/drift', { status: 'open', env: name, kind: 'outlier' })}>open outlier events</a>
      </p>
      <Live id="environment-outliers">
        <OutlierGroupsSection
          result={outliers}
          view={{
            environment: name,
            includeScale: params.scale,
            ...(moreGroups > params.groups
              ? { more: { href: pageHref(name, params, { groups: moreGroups }), groups: moreGroups } }
              : {}),
          }}
        />
      </Live>
      <h2>Baseline</h2>
      <BaselineSearch name={name} params={params} />
      <Live id="environment-baseline">
        <h3>Tied paths ({baseline.ties.length})</h3>
        <TiesTable ties={baseline.ties} view={view} />
        <h3>By category</h3>
        <BaselineCategories baseline={baseline} classify={classify} view={view} />
      </Live>
    </>
  );
};

/** Outside the live region, so a refresh never resets what the user is typing. */
const BaselineSearch = ({ name, params }: { name: string; params: EnvironmentPageParams }) => (
  <form class="filters" method="get" action={`/environments/${encodeURIComponent(name)}`}>
    <label>
      Search paths
      <input type="search" name="q" value={params.q} placeholder="e.g. openssl" maxlength={MAX_SEARCH_CHARS} />
    </label>
    {params.scale && <input type="hidden" name="scale" value="1" />}
    {params.groups !== DEFAULT_OUTLIER_GROUPS && <input type="hidden" name="groups" value={String(params.groups)} />}
    <button type="submit">Search</button>
    {(params.q !== '' || params.cat !== undefined) && (
      <a href={pageHref(name, params, { q: '', cat: undefined })}>Clear</a>
    )}
  </form>
);
