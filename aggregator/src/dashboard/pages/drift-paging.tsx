/**
 * The drift feed's filters and pages, read from the URL. Filters mirror GET /api/v1/drift (`status`,
 * environment on either side, `kind`, host) under the page's short names; `status=any` (the
 * default, as in the API) lists both.
 *
 * Paging is by cursor: `before=<openedAt ms>-<id>` of the last row shown, in the store's order
 * (opened_at, then id, both descending). Unlike an offset it stays right while new events arrive
 * on top and while open events resolve out of a `status=open` list. The store has no cursor
 * parameter, so the page reads the newest events in growing windows until it has passed the
 * cursor: a deep page costs its depth, capped at MAX_SCAN_EVENTS (the API's own largest page).
 */

import type { DriftEventRecord } from '../../drift/events.js';
import { InvalidRequestError } from '../../errors.js';
import type { FleetQueries } from '../../queries/fleet-queries.js';
import { DRIFT_STATUSES, type DriftStatus, STORED_DRIFT_KINDS, type StoredDriftKind } from '../../store/fact-store.js';

export const DRIFT_PAGE_SIZE = 50;
/** The deepest the feed reads (GET /api/v1/drift's MAX_DRIFT_LIMIT); past it, narrow the filters. */
export const MAX_SCAN_EVENTS = 10_000;
const FIRST_SCAN_WINDOW = DRIFT_PAGE_SIZE * 4;

export const DRIFT_STATUS_FILTERS = ['any', ...DRIFT_STATUSES] as const;
export type DriftStatusFilter = (typeof DRIFT_STATUS_FILTERS)[number];

export interface DriftFilter {
  status: DriftStatusFilter;
  env?: string;
  kind?: StoredDriftKind;
  host?: string;
}

export interface DriftCursor {
  openedAt: number;
  id: number;
}

export interface DriftPage {
  events: DriftEventRecord[];
  /** The `before` of the next (older) page, when there is one. */
  next?: string;
  /** The cursor lies deeper than MAX_SCAN_EVENTS: the page could not be read. */
  tooDeep: boolean;
}

/** The filters of a query string; empty fields (an "any" choice of the form) count as absent. */
export function parseDriftFilter(query: Record<string, string>, queries: FleetQueries): DriftFilter {
  const status = field(query, 'status') ?? 'any';
  if (!isOneOf(DRIFT_STATUS_FILTERS, status)) {
    throw new InvalidRequestError(
      `\`status\` must be one of ${DRIFT_STATUS_FILTERS.join(', ')} (it is ${JSON.stringify(status)})`,
      'status',
    );
  }
  const kind = field(query, 'kind');
  if (kind !== undefined && !isOneOf(STORED_DRIFT_KINDS, kind)) {
    throw new InvalidRequestError(
      `\`kind\` must be one of ${STORED_DRIFT_KINDS.join(', ')} (it is ${JSON.stringify(kind)})`,
      'kind',
    );
  }
  const env = field(query, 'env');
  const host = field(query, 'host');
  // Unknown names are a 404 naming what is known, as in the API.
  return {
    status,
    ...(env !== undefined ? { env: queries.knownEnvironment(env) } : {}),
    ...(kind !== undefined ? { kind } : {}),
    ...(host !== undefined ? { host: queries.host(host).id } : {}),
  };
}

export function parseDriftCursor(raw: string | undefined): DriftCursor | undefined {
  if (raw === undefined || raw === '') return undefined;
  const match = /^(\d{1,15})-(\d{1,15})$/.exec(raw);
  if (!match) {
    throw new InvalidRequestError(
      '`before` must be the "next" link\'s `<openedAt ms>-<event id>`; start again from the newest page',
      'before',
    );
  }
  return { openedAt: Number(match[1]), id: Number(match[2]) };
}

export function cursorOf(event: DriftEventRecord): string {
  return `${Date.parse(event.openedAt)}-${event.id}`;
}

/** One page of events, newest first, older than `before` when given. */
export async function readDriftPage(
  queries: FleetQueries,
  filter: DriftFilter,
  before?: DriftCursor,
): Promise<DriftPage> {
  const query = {
    ...(filter.status !== 'any' ? { status: filter.status as DriftStatus } : {}),
    ...(filter.env !== undefined ? { environment: filter.env } : {}),
    ...(filter.kind !== undefined ? { kind: filter.kind } : {}),
    ...(filter.host !== undefined ? { hostId: filter.host } : {}),
  };
  for (let window = before === undefined ? DRIFT_PAGE_SIZE : FIRST_SCAN_WINDOW; ; window *= 2) {
    const limit = Math.min(window, MAX_SCAN_EVENTS);
    const { items, truncated } = await queries.driftEvents({ ...query, limit });
    const start = before === undefined ? 0 : items.findIndex((event) => isOlder(event, before));
    const older = start === -1 ? [] : items.slice(start);
    // Done when the window holds a full page past the cursor, or everything there is; a cut
    // window then means more (older) events after this page.
    if (older.length >= DRIFT_PAGE_SIZE || !truncated) {
      const events = older.slice(0, DRIFT_PAGE_SIZE);
      const more = older.length > DRIFT_PAGE_SIZE || truncated;
      const last = events.at(-1);
      return { events, ...(more && last ? { next: cursorOf(last) } : {}), tooDeep: false };
    }
    if (limit === MAX_SCAN_EVENTS) {
      // Past the deepest read: show what lies inside it, say the rest cannot be paged to.
      return { events: older.slice(0, DRIFT_PAGE_SIZE), tooDeep: true };
    }
  }
}

function isOlder(event: DriftEventRecord, cursor: DriftCursor): boolean {
  const openedAt = Date.parse(event.openedAt);
  return openedAt < cursor.openedAt || (openedAt === cursor.openedAt && Number(event.id) < cursor.id);
}

function field(query: Record<string, string>, name: string): string | undefined {
  const value = query[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function isOneOf<T extends string>(values: readonly T[], value: string): value is T {
  return (values as readonly string[]).includes(value);
}
