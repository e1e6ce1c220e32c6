/**
 * How a host differs from its environment's baseline: the same comparison (and judgement: drift,
 * justified by an exception, scale, secret policy) as `/compare?from=ENV&to=host:ID`, cut short.
 */
import { compareStrings, differenceStatusRank } from '@envparity/shared';
import { NotFoundError } from '../../errors.js';
import type { Comparison } from '../../queries/compare-sides.js';
import type { FleetQueries } from '../../queries/fleet-queries.js';
import type { HostView } from '../../store/fact-store.js';
import { FactValueView, href, percent, StatusBadge } from '../format.js';
import { Wide } from '../layout.js';

/** The host page lists this many differences; the compare page has them all. */
export const BASELINE_DIFF_ROWS = 50;

export type BaselineDiff =
  | { kind: 'no-environment' }
  | { kind: 'no-baseline'; environment: string }
  | { kind: 'compared'; environment: string; comparison: Comparison; stale: boolean };

export async function baselineDiffOf(queries: FleetQueries, host: HostView): Promise<BaselineDiff> {
  if (host.environment === null) return { kind: 'no-environment' };
  const environment = host.environment;
  try {
    const state = queries.environment(environment);
    if (state.hosts.length === 0) return { kind: 'no-baseline', environment };
    const comparison = await queries.compare({ environment }, { host: host.id });
    return { kind: 'compared', environment, comparison, stale: state.baseline.stale };
  } catch (error) {
    // An environment no longer known (its every host retired): nothing to compare with.
    if (error instanceof NotFoundError) return { kind: 'no-baseline', environment };
    throw error;
  }
}

export const BaselineDiffView = ({ diff, hostId }: { diff: BaselineDiff; hostId: string }) => {
  if (diff.kind === 'no-environment') return <p class="muted">This host declares no environment.</p>;
  if (diff.kind === 'no-baseline') {
    return <p class="muted">{diff.environment} has no baseline: none of its hosts reports facts.</p>;
  }
  const { comparison, environment, stale } = diff;
  const compareLink = href('/compare', { from: environment, to: `host:${hostId}` });
  const differences = [...comparison.differences].sort(
    (a, b) => differenceStatusRank(a.status) - differenceStatusRank(b.status) || compareStrings(a.path, b.path),
  );
  return (
    <>
      <p>
        {stale && (
          <>
            <StatusBadge status="stale" />{' '}
          </>
        )}
        Parity with the {environment} baseline: <strong>{percent(comparison.parity)}</strong>{' '}
        <span class="muted">of {comparison.compared} behavior paths.</span>{' '}
        {differences.length === 0 ? (
          <StatusBadge status="equal" label="matches its baseline" />
        ) : (
          <a href={compareLink}>Full comparison</a>
        )}
      </p>
      {differences.length > 0 && (
        <Wide>
          <table>
            <thead>
              <tr>
                <th>status</th>
                <th>path</th>
                <th>baseline ({environment})</th>
                <th>this host</th>
              </tr>
            </thead>
            <tbody>
              {differences.slice(0, BASELINE_DIFF_ROWS).map((difference) => (
                <tr>
                  <td>
                    <StatusBadge status={difference.status} />
                    {difference.exception && <div class="muted">{difference.exception.reason}</div>}
                  </td>
                  <td class="path">
                    <a href={href('/facts', { path: difference.path, env: environment })}>{difference.path}</a>
                  </td>
                  <td class="value">
                    <FactValueView value={difference.from} />
                  </td>
                  <td class="value">
                    <FactValueView value={difference.to} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Wide>
      )}
      {differences.length > BASELINE_DIFF_ROWS && (
        <p class="muted">
          {differences.length - BASELINE_DIFF_ROWS} more differences: <a href={compareLink}>see the full comparison</a>.
        </p>
      )}
    </>
  );
};
