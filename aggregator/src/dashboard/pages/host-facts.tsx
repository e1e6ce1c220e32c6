/**
 * A host's current facts, one `<details>` per category (closed: a host can hold thousands), each
 * row the path, its value and its class. Ids keep a category open across live refreshes.
 */
import { type Classifier, categoryOf, compareStrings, type FactMap } from '@envparity/shared';
import { FactValueView, href, StatusBadge } from '../format.js';
import { Wide } from '../layout.js';

export function groupFactsByCategory(facts: FactMap): [string, string[]][] {
  const groups = new Map<string, string[]>();
  for (const path of Object.keys(facts).sort(compareStrings)) {
    const category = categoryOf(path);
    const paths = groups.get(category);
    if (paths) paths.push(path);
    else groups.set(category, [path]);
  }
  return [...groups].sort(([a], [b]) => compareStrings(a, b));
}

export const HostFacts = ({ facts, classify }: { facts: FactMap; classify: Classifier }) => {
  const groups = groupFactsByCategory(facts);
  if (groups.length === 0) return <p class="muted">This host has not reported facts yet.</p>;
  return (
    <>
      {groups.map(([category, paths]) => (
        <details id={`facts-${category.replace(/[^A-Za-z0-9_-]/g, '_')}`}>
          <summary>
            <strong>{category}</strong>{' '}
            <span class="muted">({paths.length === 1 ? '1 fact' : `${paths.length} facts`})</span>
          </summary>
          <Wide>
            <table>
              <thead>
                <tr>
                  <th>path</th>
                  <th>value</th>
                  <th>class</th>
                </tr>
              </thead>
              <tbody>
                {paths.map((path) => (
                  <tr>
                    <td class="path">
                      <a href={href('/facts', { path })}>{path}</a>
                    </td>
                    <td class="value">
                      <FactValueView value={facts[path]} />
                    </td>
                    <td>
                      <StatusBadge status={classify(path)} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Wide>
        </details>
      ))}
    </>
  );
};
