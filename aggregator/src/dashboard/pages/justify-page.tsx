/**
 * `/compare/justify?from=A&to=B&path=P` (admin): the form that documents a drift row of a
 * comparison as intended, and its POST, which creates the exception exactly as
 * `POST /api/v1/exceptions` does (FleetCommands checks it, the audit log records it) and goes back
 * to the comparison, filters kept, where the row is now justified. A refused request shows the
 * form again with the reason and everything the user typed (400).
 */
import type { Context } from 'hono';
import { InvalidRequestError } from '../../errors.js';
import { createExceptionBodySchema } from '../../http/api-schemas.js';
import { createAuditedException, EXCEPTION_FIELD_HINTS } from '../../http/exceptions-routes.js';
import { parseInput } from '../../http/parse-query.js';
import type { DashboardEnv, PageRouter } from '../dashboard-env.js';
import { requirePageScope, verifiedForm } from '../page-auth.js';
import { renderPage } from '../render-page.js';
import { type CompareFilters, compareHref, parseCompareFilters } from './compare-params.js';
import type { PageDeps } from './index.js';
import { JustifyForm, type JustifyInput } from './justify-form.js';

/** The form's fields besides the comparison's filters (and `_csrf`). */
const FORM_FIELDS = ['_csrf', 'path', 'reason', 'impact', 'owner', 'expiresAt', 'environments'] as const;

export function registerJustifyPages(router: PageRouter, { queries, commands, store }: PageDeps): void {
  /** The comparison the form is about: its sides' environments and the row being justified. */
  async function context(filters: CompareFilters, path: string) {
    if (filters.from === undefined || filters.to === undefined) {
      const missing = filters.from === undefined ? 'from' : 'to';
      throw new InvalidRequestError(
        `query parameter \`${missing}\` is required: the comparison to go back to`,
        missing,
      );
    }
    const comparison = await queries.compare({ environment: filters.from }, { environment: filters.to });
    const environments = [
      ...new Set(
        [comparison.from.environment, comparison.to.environment].filter((name): name is string => name !== null),
      ),
    ];
    const difference = comparison.differences.find((candidate) => candidate.path === path);
    return { from: comparison.from.label, to: comparison.to.label, environments, difference };
  }

  const show = async (c: Context<DashboardEnv>, filters: CompareFilters, input: JustifyInput, error?: string) => {
    const about = await context(filters, input.path);
    return renderPage(c, {
      title: `Justify ${input.path}`,
      section: 'compare',
      status: error === undefined ? 200 : 400,
      body: (
        <JustifyForm
          viewer={c.get('viewer')}
          filters={filters}
          input={{ ...input, environments: input.environments ?? about.environments.join(',') }}
          about={about}
          error={error}
        />
      ),
    });
  };

  router.get('/compare/justify', async (c) => {
    requirePageScope(c, 'admin');
    const { path, ...rest } = c.req.query();
    const filters = parseCompareFilters(rest);
    if (path === undefined || path.trim() === '') {
      throw new InvalidRequestError('query parameter `path` is required: the fact path to justify', 'path');
    }
    return show(c, filters, { path, reason: '', impact: '', owner: '', expiresAt: '' });
  });

  router.post('/compare/justify', async (c) => {
    requirePageScope(c, 'admin');
    const form = await verifiedForm(c);
    const filters = parseCompareFilters(
      Object.fromEntries(Object.entries(form).filter(([key]) => !(FORM_FIELDS as readonly string[]).includes(key))),
    );
    const input: JustifyInput = {
      path: form.path ?? '',
      reason: form.reason ?? '',
      impact: form.impact ?? '',
      owner: form.owner ?? '',
      expiresAt: form.expiresAt ?? '',
      environments: form.environments ?? '',
    };
    try {
      const request = parseInput(createExceptionBodySchema, exceptionBody(input), 'body', EXCEPTION_FIELD_HINTS);
      await createAuditedException({ commands, store }, c, request);
    } catch (error) {
      if (!(error instanceof InvalidRequestError)) throw error;
      return show(c, filters, input, error.message.replace(/^invalid body: /, ''));
    }
    return c.redirect(compareHref(filters), 303);
  });
}

/** The form as the API's request body: empty optional fields left out, an expiry without offset is UTC. */
export function exceptionBody(input: JustifyInput): Record<string, unknown> {
  const optional = (value: string) => (value.trim() === '' ? undefined : value.trim());
  const body: Record<string, unknown> = {
    path: input.path.trim(),
    environments: (input.environments ?? '')
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== ''),
    reason: input.reason,
  };
  const impact = optional(input.impact);
  const owner = optional(input.owner);
  const expiresAt = optional(input.expiresAt);
  if (impact !== undefined) body.impact = impact;
  if (owner !== undefined) body.owner = owner;
  if (expiresAt !== undefined) body.expiresAt = withOffset(expiresAt);
  return body;
}

/** `2026-12-31` and `2026-12-31T18:00` (a datetime-local value) are read as UTC. */
function withOffset(text: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return `${text}T00:00:00Z`;
  if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}$/.test(text)) return `${text.replace(' ', 'T')}:00Z`;
  if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?$/.test(text)) return `${text.replace(' ', 'T')}Z`;
  return text;
}
