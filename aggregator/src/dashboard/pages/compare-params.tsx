/**
 * The compare page's state, all of it in the URL: the two sides (`from`/`to`: an environment or
 * `host:ID`, as `GET /api/v1/compare` takes them; the side form's `fromHost`/`toHost` text boxes
 * fold into them), categories (the API's comma-separated list), and the row filters `status`, `q`
 * and the page. Empty fields of a submitted form count as absent.
 */
import { z } from 'zod';
import { InvalidRequestError } from '../../errors.js';
import { categoryListQuery } from '../../http/api-schemas.js';
import { parseQuery } from '../../http/parse-query.js';
import { HOST_SIDE_PREFIX } from '../../queries/compare-sides.js';
import { href } from '../format.js';

/** `drift` shows secret-policy findings too: they count like drift. */
export const STATUS_FILTERS = ['all', 'drift', 'justified', 'scale', 'secret-policy'] as const;
export type StatusFilter = (typeof STATUS_FILTERS)[number];

export const DEFAULT_DIFFERENCES_LIMIT = 200;
export const MAX_DIFFERENCES_LIMIT = 1000;

/** The side syntax of `GET /api/v1/compare`. */
const sideSchema = z.string().regex(/^(host:.+|[A-Za-z0-9_-]+)$/, 'expected an environment name or host:ID');

export const compareFilterFields = {
  from: sideSchema.optional(),
  to: sideSchema.optional(),
  fromHost: z.string().min(1).optional(),
  toHost: z.string().min(1).optional(),
  category: categoryListQuery.optional(),
  status: z.enum(STATUS_FILTERS).default('all'),
  q: z.string().max(500).optional(),
  page: z.coerce.number().int().min(1).default(1),
  limit: z.coerce.number().int().min(1).max(MAX_DIFFERENCES_LIMIT).default(DEFAULT_DIFFERENCES_LIMIT),
};

const compareQuery = z.strictObject(compareFilterFields);

export interface CompareFilters {
  /** Both absent: no comparison asked yet (the page shows the side form). */
  from: string | undefined;
  to: string | undefined;
  categories: string[] | undefined;
  status: StatusFilter;
  q: string | undefined;
  page: number;
  limit: number;
}

/** Drops empty values (a form's untouched fields). */
export function presentValues(query: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(query).filter(([, value]) => value.trim() !== ''));
}

/** The page's filters; InvalidRequestError naming the parameter when one is bad. */
export function parseCompareFilters(query: Record<string, string>, schema: z.ZodType = compareQuery): CompareFilters {
  const parsed = parseQuery(schema, presentValues(query)) as z.infer<typeof compareQuery>;
  return {
    from: foldSide(parsed, 'from'),
    to: foldSide(parsed, 'to'),
    categories: parsed.category,
    status: parsed.status,
    q: parsed.q?.trim(),
    page: parsed.page,
    limit: parsed.limit,
  };
}

function foldSide(parsed: z.infer<typeof compareQuery>, side: 'from' | 'to'): string | undefined {
  const host = parsed[`${side}Host`];
  if (host === undefined) return parsed[side];
  if (parsed[side] !== undefined) {
    throw new InvalidRequestError(
      `query parameter \`${side}Host\`: give \`${side}\` or \`${side}Host\`, not both`,
      `${side}Host`,
    );
  }
  return `${HOST_SIDE_PREFIX}${host}`;
}

/** The query parameters that say the same as `filters`, defaults left out (for links and redirects). */
export function filterParams(
  filters: CompareFilters,
  overrides: Partial<CompareFilters> = {},
): Record<string, string | number | undefined> {
  const f = { ...filters, ...overrides };
  return {
    from: f.from,
    to: f.to,
    category: f.categories?.join(','),
    status: f.status === 'all' ? undefined : f.status,
    q: f.q,
    page: f.page === 1 ? undefined : f.page,
    limit: f.limit === DEFAULT_DIFFERENCES_LIMIT ? undefined : f.limit,
  };
}

export function compareHref(filters: CompareFilters, overrides: Partial<CompareFilters> = {}): string {
  return href('/compare', filterParams(filters, overrides));
}

/** True when the URL says it in another way than compareHref would (host boxes, empty fields). */
export function isCanonical(query: Record<string, string>, filters: CompareFilters): boolean {
  const canonical = new URL(compareHref(filters), 'http://x').searchParams;
  const given = Object.entries(query);
  return given.length === [...canonical.keys()].length && given.every(([key, value]) => canonical.get(key) === value);
}
