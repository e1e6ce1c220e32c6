/**
 * `/facts`: the fleet's inventory of one fact. Without `path`, a form; with it, the values of that
 * path in each environment (as GET /api/v1/facts/distribution counts them: per category blob, so
 * 10,000 hosts on a few images cost a few reads), each value a link to the hosts that have it.
 * `env` keeps one environment; environments are paged with `page`.
 */
import { canonicalPath, type FactClass, isValidPath } from '@envparity/shared';
import { InvalidRequestError } from '../../errors.js';
import type { FactDistribution } from '../../queries/fact-distribution.js';
import type { PageRouter } from '../dashboard-env.js';
import { href } from '../format.js';
import { Live, Notice } from '../layout.js';
import { renderPage } from '../render-page.js';
import { distinctValues, FactDistributionTable } from './facts-distribution-table.js';
import { factHref } from './facts-value-link.js';
import type { PageDeps } from './index.js';

export const ENVIRONMENTS_PER_PAGE = 20;
/** Values shown per environment across the fleet, and in one environment (`env`). */
export const VALUES_PER_ENVIRONMENT = 20;
export const VALUES_IN_ONE_ENVIRONMENT = 200;
/** Past this many environments the filter is a text field, not a menu (per-PR environments). */
const MAX_ENVIRONMENT_CHOICES = 200;

const CLASS_MEANING: Record<FactClass, string> = {
  behavior: 'compared and fingerprinted: a difference is drift',
  scale: 'compared, but a difference is scale (machine size), never drift',
  volatile: 'not compared: it changes by itself',
  identity: 'not compared: it names the host',
};

export interface FactsPageParams {
  path?: string;
  env?: string;
  page: number;
}

export function parseFactsParams(query: Record<string, string | undefined>): FactsPageParams {
  const path = query.path?.trim() || undefined;
  if (path !== undefined && !isValidPath(path)) {
    throw new InvalidRequestError(
      'path: not a valid fact path (segments joined with dots, odd ones quoted: config.sysctl["net.core.somaxconn"])',
      'path',
    );
  }
  const env = query.env?.trim() || undefined;
  const pageText = query.page?.trim() || '1';
  const page = Number(pageText);
  if (!/^\d+$/.test(pageText) || !Number.isSafeInteger(page) || page < 1) {
    throw new InvalidRequestError('page: expected a whole number from 1', 'page');
  }
  return {
    ...(path !== undefined ? { path: canonicalPath(path) } : {}),
    ...(env !== undefined ? { env } : {}),
    page,
  };
}

interface EnvironmentValues {
  environment: string;
  distribution: FactDistribution;
}

export function registerFactsPage(router: PageRouter, { queries }: PageDeps): void {
  router.get('/facts', (c) => {
    const params = parseFactsParams(c.req.query());
    const environments = queries.catalog.environments();
    const form = <FactForm params={params} environments={environments} />;
    const { path } = params;
    if (path === undefined) {
      return renderPage(c, {
        title: 'Facts',
        section: 'facts',
        body: (
          <>
            <h1>Facts</h1>
            <p>
              Every value of one fact across the fleet: which values exist in each environment and on how many hosts,
              each a link to those hosts. Paths are written as agents report them, e.g.{' '}
              <code>library.dpkg.openssl</code>, <code>runtime.node</code> or{' '}
              <code>{'config.sysctl["net.core.somaxconn"]'}</code>; an environment&apos;s page lists its baseline&apos;s
              paths.
            </p>
            {form}
          </>
        ),
      });
    }
    const rows: EnvironmentValues[] =
      params.env === undefined
        ? queries.distributionsByEnvironment(path)
        : [{ environment: queries.knownEnvironment(params.env), distribution: queries.distribution(path, params.env) }];
    return renderPage(c, {
      title: `Fact ${path}`,
      section: 'facts',
      body: (
        <>
          <h1>
            Fact <code>{path}</code>
          </h1>
          {form}
          <Live id="fact-values">
            <FactValues path={path} rows={rows} params={params} factClass={queries.classify(path)} />
          </Live>
        </>
      ),
    });
  });
}

const FactForm = ({ params, environments }: { params: FactsPageParams; environments: readonly string[] }) => (
  <form class="filters" method="get" action="/facts">
    <label>
      Fact path
      <input type="text" name="path" value={params.path ?? ''} required size={48} placeholder="library.dpkg.openssl" />
    </label>
    {environments.length > MAX_ENVIRONMENT_CHOICES ? (
      <label>
        Environment
        <input type="text" name="env" value={params.env ?? ''} placeholder="all environments" />
      </label>
    ) : (
      <label>
        Environment
        <select name="env">
          <option value="">all environments</option>
          {environments.map((name) => (
            <option value={name} selected={name === params.env}>
              {name}
            </option>
          ))}
        </select>
      </label>
    )}
    <button type="submit">Show values</button>
  </form>
);

const FactValues = ({
  path,
  rows,
  params,
  factClass,
}: {
  path: string;
  rows: readonly EnvironmentValues[];
  params: FactsPageParams;
  factClass: FactClass;
}) => {
  const reporting = rows.filter(({ distribution }) => distribution.values.length > 0);
  const where = params.env === undefined ? '' : ` in ${params.env}`;
  if (reporting.length === 0) {
    return (
      <Notice>
        No host{where} reports <code>{path}</code>. Check the spelling, or look for the path on an environment&apos;s
        baseline.
      </Notice>
    );
  }
  let hosts = 0;
  let holding = 0;
  for (const { distribution } of rows) {
    hosts += distribution.hosts;
    holding += distribution.hosts - distribution.missing;
  }
  const distinct = distinctValues(rows.map(({ distribution }) => distribution));
  const pages = Math.ceil(reporting.length / ENVIRONMENTS_PER_PAGE);
  const page = Math.min(params.page, pages);
  const shown = reporting.slice((page - 1) * ENVIRONMENTS_PER_PAGE, page * ENVIRONMENTS_PER_PAGE);
  const silent = rows.filter(({ distribution }) => distribution.values.length === 0 && distribution.hosts > 0);
  const maxValues = params.env === undefined ? VALUES_PER_ENVIRONMENT : VALUES_IN_ONE_ENVIRONMENT;
  return (
    <>
      <p>
        Reported by {holding} of {hosts} hosts{where}; {distinct} distinct {distinct === 1 ? 'value' : 'values'}. Class{' '}
        <strong>{factClass}</strong>: <span class="muted">{CLASS_MEANING[factClass]}</span>.{' '}
        <a href={href('/api/v1/facts/distribution', { path, environment: params.env })}>JSON</a>
      </p>
      {shown.map(({ environment, distribution }) => (
        <section>
          <h2>
            <a href={`/environments/${encodeURIComponent(environment)}`}>{environment}</a>{' '}
            <small class="muted">
              {distribution.hosts - distribution.missing} of {distribution.hosts} hosts
            </small>
          </h2>
          <FactDistributionTable
            path={path}
            environment={environment}
            distribution={distribution}
            maxValues={maxValues}
          />
          {params.env === undefined && distribution.values.length > maxValues && (
            <p>
              <a href={factHref(path, environment)}>All values in {environment}</a>
            </p>
          )}
        </section>
      ))}
      {pages > 1 && (
        <p class="pager">
          {page > 1 && (
            <a href={href('/facts', { path, env: params.env, page: page > 2 ? page - 1 : undefined })}>
              ← previous environments
            </a>
          )}
          <span class="muted">
            environments {(page - 1) * ENVIRONMENTS_PER_PAGE + 1}–{(page - 1) * ENVIRONMENTS_PER_PAGE + shown.length} of{' '}
            {reporting.length}
          </span>
          {page < pages && <a href={href('/facts', { path, env: params.env, page: page + 1 })}>next environments →</a>}
        </p>
      )}
      {silent.length > 0 && (
        <p class="muted">
          No host reports it in {silent.length === 1 ? 'environment' : 'environments'}{' '}
          {silent
            .slice(0, 20)
            .map(({ environment }) => environment)
            .join(', ')}
          {silent.length > 20 ? ` and ${silent.length - 20} more` : ''}.
        </p>
      )}
    </>
  );
};
