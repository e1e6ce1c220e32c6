/**
 * `/exceptions`: the board of documented intentional differences, as GET /api/v1/exceptions lists
 * them, in three sections: active, expiring within 7 days, expired. `show` (all | active | expiring
 * | expired) picks one section, paged with `page`; `show=all` previews each. Admin viewers delete
 * API-created exceptions here (POST /exceptions/:id/delete, as DELETE /api/v1/exceptions/:id does,
 * audit entry included); new ones are made from a compare (its Justify action).
 */
import { compareStrings } from '@envparity/shared';
import { InvalidRequestError } from '../../errors.js';
import { scopeAllows } from '../../http/api-auth.js';
import { deleteAuditedException } from '../../http/exceptions-routes.js';
import type { ExceptionRecord } from '../../store/fact-store.js';
import type { PageRouter } from '../dashboard-env.js';
import { href } from '../format.js';
import { Live, Notice, type Viewer } from '../layout.js';
import { requirePageScope, verifiedForm } from '../page-auth.js';
import { renderPage } from '../render-page.js';
import { type ExceptionStatus, ExceptionsTable, exceptionStatus } from './exception-table.js';
import type { PageDeps } from './index.js';

export const EXCEPTIONS_PAGE_SIZE = 50;
const SHOW_FILTERS = ['all', 'active', 'expiring', 'expired'] as const;
type ShowFilter = (typeof SHOW_FILTERS)[number];

const SECTIONS: readonly { status: ExceptionStatus; title: string; empty: string }[] = [
  { status: 'active', title: 'Active', empty: 'No active exception (beyond the next 7 days).' },
  { status: 'expiring', title: 'Expiring within 7 days', empty: 'Nothing expires within 7 days.' },
  { status: 'expired', title: 'Expired', empty: 'No expired exception.' },
];

/** Soonest expiry first while they still match; most recently expired first once they do not. */
const ORDER: Record<ExceptionStatus, (a: ExceptionRecord, b: ExceptionRecord) => number> = {
  active: (a, b) => compareStrings(a.path, b.path) || compareStrings(a.id, b.id),
  expiring: (a, b) => (a.expiresAt ?? 0) - (b.expiresAt ?? 0) || compareStrings(a.id, b.id),
  expired: (a, b) => (b.expiresAt ?? 0) - (a.expiresAt ?? 0) || compareStrings(a.id, b.id),
};

export function registerExceptionsPage(router: PageRouter, { queries, commands, store, now }: PageDeps): void {
  router.get('/exceptions', async (c) => {
    const query = c.req.query();
    const show = parseShow(query.show);
    const page = parsePage(query.page);
    const at = now();
    const grouped = groupByStatus(await queries.exceptions(), at);
    const viewer = c.get('viewer');
    const board: BoardProps = { grouped, show, page, at, viewer, admin: scopeAllows(viewer.principal.scope, 'admin') };
    const deleted = await confirmedDeletion(store, query.deleted);
    return renderPage(c, {
      title: show === 'all' ? 'Exceptions' : `Exceptions · ${show}`,
      section: 'exceptions',
      body: (
        <>
          <h1>Exceptions</h1>
          <p class="muted">
            Documented intentional differences: a difference an active exception covers is justified, counts for parity
            and opens no drift. New ones are made on the compare page (its Justify action):{' '}
            <a href="/compare">create one from a compare</a>.
          </p>
          {deleted !== undefined && (
            <Notice>
              Exception <code>{deleted}</code> was deleted: the differences it justified are drift again.
            </Notice>
          )}
          <ShowLinks show={show} grouped={grouped} />
          <Live id="exceptions-board">
            <Board {...board} />
          </Live>
        </>
      ),
    });
  });

  router.post('/exceptions/:id/delete', async (c) => {
    requirePageScope(c, 'admin');
    const form = await verifiedForm(c);
    const id = c.req.param('id') ?? '';
    const record = await deleteAuditedException({ commands, store }, c, id, now());
    const show = isShow(form.show) && form.show !== 'all' ? form.show : undefined;
    return c.redirect(href('/exceptions', { show, deleted: record.id }), 303);
  });
}

interface BoardProps {
  grouped: Record<ExceptionStatus, ExceptionRecord[]>;
  show: ShowFilter;
  page: number;
  at: number;
  viewer: Viewer;
  admin: boolean;
}

/** One section paged (`show` = a status), or every section's first page with a link to the rest. */
const Board = ({ grouped, show, page, at, viewer, admin }: BoardProps) => {
  const sections = show === 'all' ? SECTIONS : SECTIONS.filter((section) => section.status === show);
  const start = show === 'all' ? 0 : (page - 1) * EXCEPTIONS_PAGE_SIZE;
  return (
    <>
      {sections.map(({ status, title, empty }) => {
        const all = grouped[status];
        const shown = all.slice(start, start + EXCEPTIONS_PAGE_SIZE);
        const more = all.length > start + EXCEPTIONS_PAGE_SIZE;
        return (
          <section id={`exceptions-${status}`}>
            <h2>
              {title} <small class="muted">({all.length})</small>
            </h2>
            {shown.length === 0 ? (
              <p class="muted">{start > 0 ? 'No exceptions on this page.' : empty}</p>
            ) : (
              <ExceptionsTable exceptions={shown} now={at} viewer={viewer} admin={admin} show={show} />
            )}
            {show === 'all' && more && (
              <p>
                <a href={href('/exceptions', { show: status })}>
                  All {all.length} {status} exceptions »
                </a>
              </p>
            )}
            {show !== 'all' && (page > 1 || more) && (
              <nav class="pager" aria-label="pages">
                {page > 1 && <a href={href('/exceptions', { show, page: page - 1 })}>« Previous</a>}
                {more && <a href={href('/exceptions', { show, page: page + 1 })}>Next »</a>}
              </nav>
            )}
          </section>
        );
      })}
    </>
  );
};

const ShowLinks = ({ show, grouped }: { show: ShowFilter; grouped: Record<ExceptionStatus, ExceptionRecord[]> }) => (
  <nav class="pager" aria-label="show">
    {SHOW_FILTERS.map((filter) => {
      const count =
        filter === 'all'
          ? grouped.active.length + grouped.expiring.length + grouped.expired.length
          : grouped[filter].length;
      return (
        <a
          href={href('/exceptions', { show: filter === 'all' ? undefined : filter })}
          aria-current={filter === show ? 'page' : undefined}
        >
          {filter === show ? <strong>{`${filter} (${count})`}</strong> : `${filter} (${count})`}
        </a>
      );
    })}
  </nav>
);

function groupByStatus(exceptions: readonly ExceptionRecord[], at: number): Record<ExceptionStatus, ExceptionRecord[]> {
  const grouped: Record<ExceptionStatus, ExceptionRecord[]> = { active: [], expiring: [], expired: [] };
  for (const record of exceptions) grouped[exceptionStatus(record, at)].push(record);
  for (const status of Object.keys(grouped) as ExceptionStatus[]) grouped[status].sort(ORDER[status]);
  return grouped;
}

function isShow(value: string | undefined): value is ShowFilter {
  return value !== undefined && (SHOW_FILTERS as readonly string[]).includes(value);
}

function parseShow(raw: string | undefined): ShowFilter {
  if (raw === undefined || raw === '') return 'all';
  if (!isShow(raw)) {
    throw new InvalidRequestError(
      `\`show\` must be one of ${SHOW_FILTERS.join(', ')} (it is ${JSON.stringify(raw)})`,
      'show',
    );
  }
  return raw;
}

function parsePage(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 1;
  if (!/^[1-9]\d{0,5}$/.test(raw)) throw new InvalidRequestError('`page` must be a whole number from 1', 'page');
  return Number(raw);
}

/** How far back the audit log is searched for the deletion a `?deleted=` notice announces. */
const DELETION_LOOKBACK = 200;

/**
 * The id of `?deleted=` when the audit log records that deletion (among its newest entries); a
 * crafted link naming a live exception, or one never deleted, shows no notice.
 */
async function confirmedDeletion(store: PageDeps['store'], id: string | undefined): Promise<string | undefined> {
  if (id === undefined || id === '') return undefined;
  const entries = await store.audit.list({ limit: DELETION_LOOKBACK });
  const recorded = entries.some((entry) => entry.action === 'exception.deleted' && entry.details.id === id);
  return recorded ? id : undefined;
}
