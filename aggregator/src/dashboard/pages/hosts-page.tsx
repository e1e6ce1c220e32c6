/**
 * `/hosts`: every current host, filtered by environment, label, connection and fact (value), a
 * hundred per page. The filter runs over the fleet in memory first; presence is read only for the
 * rows of the page, so 10,000 hosts cost one pass of cheap comparisons and a hundred rows.
 * `/hosts/:id` is the host page (host-detail-page.tsx).
 */
import type { PageRouter } from '../dashboard-env.js';
import { Live } from '../layout.js';
import { renderPage } from '../render-page.js';
import { registerHostDetailPage } from './host-detail-page.js';
import {
  filterLinkParams,
  HOSTS_PER_PAGE,
  HostFilterForm,
  type HostListParams,
  hostFilterOf,
  parseHostListParams,
} from './host-list-filters.js';
import { type HostRow, HostsTable, PageLinks } from './host-list-table.js';
import type { PageDeps } from './index.js';

export function registerHostsPages(router: PageRouter, deps: PageDeps): void {
  const { queries, now } = deps;
  router.get('/hosts', (c) => {
    const params = parseHostListParams(c.req.query());
    const environment = params.env === undefined ? undefined : queries.knownEnvironment(params.env);
    const matching = queries.hosts(hostFilterOf(params, environment));
    const pages = Math.max(1, Math.ceil(matching.length / HOSTS_PER_PAGE));
    const start = (params.page - 1) * HOSTS_PER_PAGE;
    const rows: HostRow[] = matching
      .slice(start, start + HOSTS_PER_PAGE)
      .map((host) => ({ host, ...queries.presenceOf(host.id) }));
    return renderPage(c, {
      title: environment === undefined ? 'Hosts' : `Hosts of ${environment}`,
      section: 'hosts',
      body: (
        <>
          <h1>Hosts</h1>
          <HostFilterForm params={params} environments={queries.catalog.environments()} />
          <Live id="hosts-list">
            <HostListBody params={params} rows={rows} total={matching.length} pages={pages} now={now()} />
          </Live>
        </>
      ),
    });
  });
  registerHostDetailPage(router, deps);
}

const HostListBody = ({
  params,
  rows,
  total,
  pages,
  now,
}: {
  params: HostListParams;
  rows: HostRow[];
  total: number;
  pages: number;
  now: number;
}) => {
  const linkParams = filterLinkParams(params);
  const filtered = Object.values(linkParams).some((value) => value !== undefined);
  const first = (params.page - 1) * HOSTS_PER_PAGE + 1;
  if (total === 0) {
    return (
      <p class="muted">
        {filtered ? 'No host matches these filters.' : 'No host yet: start an agent with --environment NAME.'}
      </p>
    );
  }
  return (
    <>
      <p>
        <strong>{total}</strong> {total === 1 ? 'host' : 'hosts'}
        {filtered ? ' match' : ''}
        {rows.length > 0 && (
          <span class="muted">
            {' '}
            (showing {first}–{first + rows.length - 1})
          </span>
        )}
      </p>
      {rows.length === 0 ? (
        <p class="muted">
          Page {params.page} is past the last page ({pages}).
        </p>
      ) : (
        <HostsTable rows={rows} now={now} />
      )}
      <PageLinks path="/hosts" page={params.page} pages={pages} linkParams={linkParams} />
    </>
  );
};
