/** One fact's values in one environment: value, host count and share, each value a link to its hosts. */
import { canonicalValue } from '@envparity/shared';
import type { FactDistribution } from '../../queries/fact-distribution.js';
import { FactValueView, percent } from '../format.js';
import { Wide } from '../layout.js';
import { hostsWithValueHref } from './facts-value-link.js';

export const FactDistributionTable = ({
  path,
  environment,
  distribution,
  maxValues,
}: {
  path: string;
  environment: string;
  distribution: FactDistribution;
  /** Rows shown (an identity path can have a value per host). */
  maxValues: number;
}) => {
  const { hosts, missing, values } = distribution;
  const shown = values.slice(0, maxValues);
  const share = (count: number) => (hosts === 0 ? 0 : count / hosts);
  return (
    <>
      <Wide>
        <table>
          <thead>
            <tr>
              <th>value</th>
              <th class="num">hosts</th>
              <th>share</th>
            </tr>
          </thead>
          <tbody>
            {shown.map(({ value, hosts: count }) => {
              const link = hostsWithValueHref(environment, path, value);
              return (
                <tr>
                  <td class="value">
                    {link === undefined ? (
                      <FactValueView value={value} />
                    ) : (
                      <a href={link}>{<FactValueView value={value} />}</a>
                    )}
                  </td>
                  <td class="num">{link === undefined ? count : <a href={link}>{count}</a>}</td>
                  <td>
                    <ShareBar share={share(count)} />
                  </td>
                </tr>
              );
            })}
            {missing > 0 && (
              <tr>
                <td class="muted">(absent)</td>
                <td class="num">{missing}</td>
                <td>
                  <ShareBar share={share(missing)} />
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </Wide>
      {shown.length < values.length && (
        <p class="muted">
          {values.length - shown.length} more {values.length - shown.length === 1 ? 'value' : 'values'}, on{' '}
          {hostsOf(values.slice(shown.length))} hosts.
        </p>
      )}
    </>
  );
};

/** A native meter (no inline style: the page's CSP allows none) and the exact share. */
const ShareBar = ({ share }: { share: number }) => (
  <>
    <meter min={0} max={1} value={share}>
      {percent(share)}
    </meter>{' '}
    <span class="muted">{percent(share)}</span>
  </>
);

function hostsOf(values: readonly { hosts: number }[]): number {
  let total = 0;
  for (const { hosts } of values) total += hosts;
  return total;
}

/** Distinct values over several distributions (a value seen in two environments counts once). */
export function distinctValues(distributions: readonly FactDistribution[]): number {
  const seen = new Set<string>();
  for (const { values } of distributions) for (const { value } of values) seen.add(canonicalValue(value));
  return seen.size;
}
