/**
 * `/drift`: the drift feed, newest first, as GET /api/v1/drift lists it. Filters live in the URL
 * (`status`, `env`, `kind`, `host`; a `method="get"` form outside the live region, so a refresh never
 * resets what the user is typing); pages follow a `before` cursor 50 events at a time. The list is
 * live: new events appear at the top of the newest page within a refresh.
 */
import { STORED_DRIFT_KINDS } from '../../store/fact-store.js';
import type { PageRouter } from '../dashboard-env.js';
import { href } from '../format.js';
import { Live } from '../layout.js';
import { renderPage } from '../render-page.js';
import { DriftEventsTable } from './drift-events-table.js';
import {
  DRIFT_PAGE_SIZE,
  DRIFT_STATUS_FILTERS,
  type DriftFilter,
  type DriftPage,
  MAX_SCAN_EVENTS,
  parseDriftCursor,
  parseDriftFilter,
  readDriftPage,
} from './drift-paging.js';
import type { PageDeps } from './index.js';

/** Past this many environments the filter is a text field, not a menu (per-PR environments). */
const MAX_ENVIRONMENT_CHOICES = 200;

export function registerDriftPage(router: PageRouter, { queries, now }: PageDeps): void {
  router.get('/drift', async (c) => {
    const query = c.req.query();
    const filter = parseDriftFilter(query, queries);
    const before = parseDriftCursor(query.before);
    const page = await readDriftPage(queries, filter, before);
    return renderPage(c, {
      title: filter.env === undefined ? 'Drift' : `Drift · ${filter.env}`,
      section: 'drift',
      body: (
        <>
          <h1>Drift</h1>
          <DriftFilterForm filter={filter} environments={queries.catalog.environments()} />
          <Live id="drift-events">
            <DriftFeed page={page} filter={filter} paged={before !== undefined} now={now()} />
          </Live>
        </>
      ),
    });
  });
}

/** The filters as link parameters (the default status left out). */
function filterParams(filter: DriftFilter): Record<string, string | undefined> {
  return {
    status: filter.status === 'any' ? undefined : filter.status,
    env: filter.env,
    kind: filter.kind,
    host: filter.host,
  };
}

const DriftFeed = ({
  page,
  filter,
  paged,
  now,
}: {
  page: DriftPage;
  filter: DriftFilter;
  paged: boolean;
  now: number;
}) => (
  <>
    {page.tooDeep && (
      <p class="notice error" role="alert">
        This page lies deeper than the newest {MAX_SCAN_EVENTS} events the feed reads; narrow the filters (an
        environment, a kind, a host) to see older events.
      </p>
    )}
    {page.events.length === 0 ? (
      <p class="muted">
        {paged ? 'No older events.' : 'No drift events match these filters.'}{' '}
        {(paged || hasFilters(filter)) && <a href="/drift">Show all drift</a>}
      </p>
    ) : (
      <>
        <p class="muted">
          {page.events.length} {page.events.length === 1 ? 'event' : 'events'}
          {paged ? ', older than the previous page' : ', newest first'}
          {page.next !== undefined && `; ${DRIFT_PAGE_SIZE} a page`}
        </p>
        <DriftEventsTable events={page.events} now={now} />
      </>
    )}
    {(paged || page.next !== undefined) && (
      <nav class="pager" aria-label="pages">
        {paged && <a href={href('/drift', filterParams(filter))}>« Newest</a>}
        {page.next !== undefined && (
          <a href={href('/drift', { ...filterParams(filter), before: page.next })}>Older »</a>
        )}
      </nav>
    )}
  </>
);

function hasFilters(filter: DriftFilter): boolean {
  return filter.status !== 'any' || filter.env !== undefined || filter.kind !== undefined || filter.host !== undefined;
}

const DriftFilterForm = ({ filter, environments }: { filter: DriftFilter; environments: string[] }) => (
  <form class="filters" method="get" action="/drift">
    <label>
      status
      <select name="status">
        {DRIFT_STATUS_FILTERS.map((status) => (
          <option value={status} selected={filter.status === status}>
            {status}
          </option>
        ))}
      </select>
    </label>
    <label for="drift-env">
      environment
      {environments.length > MAX_ENVIRONMENT_CHOICES ? (
        <input id="drift-env" name="env" value={filter.env ?? ''} placeholder="any" />
      ) : (
        <select id="drift-env" name="env">
          <option value="">any</option>
          {environments.map((name) => (
            <option value={name} selected={filter.env === name}>
              {name}
            </option>
          ))}
        </select>
      )}
    </label>
    <label>
      kind
      <select name="kind">
        <option value="">any</option>
        {STORED_DRIFT_KINDS.map((kind) => (
          <option value={kind} selected={filter.kind === kind}>
            {kind}
          </option>
        ))}
      </select>
    </label>
    <label>
      host
      <input name="host" value={filter.host ?? ''} placeholder="any host id" />
    </label>
    <button type="submit">Filter</button>
    {hasFilters(filter) && <a href="/drift">Clear</a>}
  </form>
);
