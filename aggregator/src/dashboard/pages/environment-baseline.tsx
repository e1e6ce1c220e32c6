/**
 * An environment's baseline on its page: one collapsed `<details id="cat-<category>">` per category
 * (the live script keeps open ones open by id), and the tied paths. A search (`q`) keeps the
 * matching paths only and opens their categories; long categories are cut, with a link to the
 * whole category (`cat`).
 */
import { type Classifier, categoryOf, compareStrings, type FactValue } from '@envparity/shared';
import type { Baseline, BaselineTie } from '../../drift/baseline.js';
import { FactValueView } from '../format.js';
import { Wide } from '../layout.js';
import { factHref, hostsWithValueHref } from './facts-value-link.js';

/** Rows a category shows unless it is the one asked for whole (`cat`). */
export const BASELINE_ROWS_PER_CATEGORY = 200;
/** Tied paths shown (a search narrows them). */
export const TIES_SHOWN = 100;

export interface BaselineView {
  environment: string;
  /** Case-insensitive substring of the paths to keep; '' keeps all. */
  q: string;
  /** The category shown whole and open. */
  cat?: string;
  /** Links of this page with other parameters (the page keeps its own). */
  link(params: { cat?: string }): string;
}

export function matchesQuery(path: string, q: string): boolean {
  return q === '' || path.toLowerCase().includes(q.toLowerCase());
}

interface CategoryRows {
  category: string;
  /** Paths of the category in the baseline. */
  size: number;
  /** Those matching the search, sorted. */
  paths: string[];
}

function baselineCategories(baseline: Baseline, q: string): CategoryRows[] {
  const byCategory = new Map<string, CategoryRows>();
  for (const path of Object.keys(baseline.facts)) {
    const category = categoryOf(path);
    let rows = byCategory.get(category);
    if (!rows) {
      rows = { category, size: 0, paths: [] };
      byCategory.set(category, rows);
    }
    rows.size++;
    if (matchesQuery(path, q)) rows.paths.push(path);
  }
  // Baseline facts are sorted by path already; categories follow that order.
  return [...byCategory.values()].sort((a, b) => compareStrings(a.category, b.category));
}

export const BaselineCategories = ({
  baseline,
  classify,
  view,
}: {
  baseline: Baseline;
  classify: Classifier;
  view: BaselineView;
}) => {
  const categories = baselineCategories(baseline, view.q).filter((rows) => view.q === '' || rows.paths.length > 0);
  if (categories.length === 0) {
    return (
      <p class="muted">
        {view.q === '' ? 'The baseline has no compared path.' : `No baseline path contains “${view.q}”.`}
      </p>
    );
  }
  return (
    <>
      {categories.map((rows) => (
        <CategoryDetails rows={rows} baseline={baseline} classify={classify} view={view} />
      ))}
    </>
  );
};

const CategoryDetails = ({
  rows,
  baseline,
  classify,
  view,
}: {
  rows: CategoryRows;
  baseline: Baseline;
  classify: Classifier;
  view: BaselineView;
}) => {
  const whole = view.cat === rows.category;
  const shown = whole ? rows.paths : rows.paths.slice(0, BASELINE_ROWS_PER_CATEGORY);
  const open = whole || view.q !== '';
  return (
    <details id={`cat-${rows.category}`} open={open}>
      <summary>
        <strong>{rows.category}</strong>{' '}
        <span class="muted">
          {view.q === ''
            ? `${rows.size} ${rows.size === 1 ? 'path' : 'paths'}`
            : `${rows.paths.length} of ${rows.size} paths`}
        </span>
      </summary>
      <Wide>
        <table>
          <thead>
            <tr>
              <th>path</th>
              <th>value</th>
              <th>class</th>
              <th>support</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((path) => (
              <tr>
                <td class="path">
                  <a href={factHref(path, view.environment)}>{path}</a>
                </td>
                <td class="value">
                  <FactValueView value={baseline.facts[path]} />
                </td>
                <td>{classify(path)}</td>
                <td>{`${baseline.support[path] ?? 0} of ${baseline.hosts} ${baseline.hosts === 1 ? 'host' : 'hosts'}`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Wide>
      {shown.length < rows.paths.length && (
        <p class="muted">
          {rows.paths.length - shown.length} more {view.q === '' ? 'paths' : 'matching paths'}:{' '}
          <a href={view.link({ cat: rows.category })}>show all of {rows.category}</a> or search to narrow them down.
        </p>
      )}
    </details>
  );
};

export const TiesTable = ({ ties, view }: { ties: readonly BaselineTie[]; view: BaselineView }) => {
  const matching = ties.filter((tie) => matchesQuery(tie.path, view.q));
  if (matching.length === 0) {
    return (
      <p class="muted">
        {ties.length === 0 ? 'No tie: every compared path has a dominant value.' : 'No tied path matches the search.'}
      </p>
    );
  }
  const shown = matching.slice(0, TIES_SHOWN);
  return (
    <>
      <p class="muted">
        These paths have two or more equally common values (or some hosts lack them): the baseline takes no side, so no
        host is an outlier there until one value wins.
      </p>
      <Wide>
        <table>
          <thead>
            <tr>
              <th>path</th>
              <th>tied values</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((tie) => (
              <tr>
                <td class="path">
                  <a href={factHref(tie.path, view.environment)}>{tie.path}</a>
                </td>
                <td>
                  {tie.candidates.map((candidate, index) => (
                    <>
                      {index > 0 && <br />}
                      <TieCandidate path={tie.path} candidate={candidate} environment={view.environment} />
                    </>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Wide>
      {shown.length < matching.length && (
        <p class="muted">{matching.length - shown.length} more tied paths: search to narrow them down.</p>
      )}
    </>
  );
};

const TieCandidate = ({
  path,
  candidate,
  environment,
}: {
  path: string;
  candidate: { value?: FactValue; hosts: number };
  environment: string;
}) => {
  const count = `${candidate.hosts} ${candidate.hosts === 1 ? 'host' : 'hosts'}`;
  if (candidate.value === undefined) return <span class="muted">(absent) · {count}</span>;
  const hosts = hostsWithValueHref(environment, path, candidate.value);
  return (
    <>
      <span class="value">
        <FactValueView value={candidate.value} />
      </span>{' '}
      · {hosts === undefined ? count : <a href={hosts}>{count}</a>}
    </>
  );
};
