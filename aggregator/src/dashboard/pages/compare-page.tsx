/**
 * `/compare?from=A&to=B`: two environments (their baselines) or hosts (`host:ID`), path by path,
 * exactly as `GET /api/v1/compare` judges them. Without both sides, a form to pick them. Filters
 * (`status`, `category`, `q`, `page`) are in the URL; `/compare/justify` (justify-page.tsx) turns a
 * drift row into an exception.
 */
import type { EnvironmentSummary } from '../../queries/fleet-queries.js';
import type { ExceptionRecord } from '../../store/fact-store.js';
import type { PageRouter } from '../dashboard-env.js';
import { href } from '../format.js';
import { Live, Notice } from '../layout.js';
import { renderPage } from '../render-page.js';
import { AuditExportLinks } from './audit-export-links.js';
import { FilterForm, SideForm } from './compare-forms.js';
import { compareHref, isCanonical, parseCompareFilters } from './compare-params.js';
import { CompareResults } from './compare-results.js';
import type { PageDeps } from './index.js';
import { registerJustifyPages } from './justify-page.js';

export function registerComparePages(router: PageRouter, deps: PageDeps): void {
  const { queries, now } = deps;
  router.get('/compare', async (c) => {
    const query = c.req.query();
    const filters = parseCompareFilters(query);
    // The side form's host boxes and empty fields become the one shareable URL of this comparison.
    if (!isCanonical(query, filters)) return c.redirect(compareHref(filters), 302);
    const { from, to } = filters;
    if (from === undefined || to === undefined) {
      const missing = from === undefined && to === undefined ? undefined : from === undefined ? 'from' : 'to';
      return renderPage(c, {
        title: 'Compare',
        section: 'compare',
        status: missing === undefined ? 200 : 400,
        body: <ChooseSides summaries={await queries.environments()} from={from} to={to} missing={missing} />,
      });
    }
    const comparison = await queries.compare({ environment: from }, { environment: to }, filters.categories);
    const exceptions = comparison.differences.some((difference) => difference.exception)
      ? new Map((await queries.exceptions()).map((record) => [record.id, record]))
      : new Map<string, ExceptionRecord>();
    return renderPage(c, {
      title: `${comparison.from.label} → ${comparison.to.label} · Compare`,
      section: 'compare',
      body: (
        <section>
          <h1>
            Compare {comparison.from.label} → {comparison.to.label}
          </h1>
          <details>
            <summary>Other sides</summary>
            <SideForm environments={queries.catalog.environments()} from={from} to={to} />
          </details>
          <FilterForm filters={filters} />
          {comparison.from.kind === 'environment' &&
            comparison.to.kind === 'environment' &&
            comparison.from.name !== comparison.to.name && (
              <AuditExportLinks
                params={{ environments: [comparison.from.name, comparison.to.name] }}
                label="Export this pair’s audit"
              />
            )}
          <Live id="compare-results">
            <CompareResults
              comparison={comparison}
              filters={filters}
              exceptions={exceptions}
              canJustify={c.get('viewer').principal.scope === 'admin'}
              now={now()}
            />
          </Live>
        </section>
      ),
    });
  });
  registerJustifyPages(router, deps);
}

/** The side form alone, with the promotion pairs one click away (environments in promotion order). */
const ChooseSides = ({
  summaries,
  from,
  to,
  missing,
}: {
  summaries: EnvironmentSummary[];
  from: string | undefined;
  to: string | undefined;
  missing: 'from' | 'to' | undefined;
}) => {
  const pairs = summaries.flatMap(({ name, upstream }) => (upstream === null ? [] : [{ from: upstream, to: name }]));
  const [first] = pairs;
  return (
    <section>
      <h1>Compare</h1>
      {missing !== undefined && (
        <Notice kind="error">query parameter `{missing}` is required: an environment, or a host as host:ID</Notice>
      )}
      <p class="muted">
        Pick two environments (their baselines are compared) or type host ids. <code>from</code> is the reference,{' '}
        <code>to</code> is judged against it.
      </p>
      <SideForm
        environments={summaries.map((summary) => summary.name)}
        from={from ?? (to === undefined ? first?.from : undefined)}
        to={to ?? (from === undefined ? first?.to : undefined)}
      />
      {pairs.length > 0 && (
        <>
          <h2>Promotion pairs</h2>
          <ul>
            {pairs.map((pair) => (
              <li>
                <a href={href('/compare', pair)}>{`${pair.from} → ${pair.to}`}</a>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
};
