/**
 * An environment's outlier hosts grouped by the difference they share: one row per cause ("7
 * hosts: `library.dpkg.openssl` 3.0.13 instead of 3.0.15"), its status, and the first hosts with a
 * link to all of them. A hotfix on 300 hosts is one row, not 300.
 */
import type { OutlierCauseGroup, OutlierCauseGroups } from '../../queries/fleet-queries.js';
import { FactValueView, StatusBadge } from '../format.js';
import { Wide } from '../layout.js';
import { factHref, hostsWithValueHref } from './facts-value-link.js';

export interface OutlierGroupsView {
  environment: string;
  includeScale: boolean;
  /** This page with more groups (the `groups` parameter), unless it shows the most it can. */
  more?: { href: string; groups: number };
}

export const OutlierGroupsSection = ({ result, view }: { result: OutlierCauseGroups; view: OutlierGroupsView }) => {
  const { groups, total, outlierHosts } = result;
  if (total === 0) {
    return <p class="muted">Every host matches the baseline{view.includeScale ? '' : ' in behavior'}: no outlier.</p>;
  }
  return (
    <>
      <p>
        {outlierHosts} {outlierHosts === 1 ? 'host differs' : 'hosts differ'} from the baseline in {total}{' '}
        {total === 1 ? 'way' : 'ways'}.
      </p>
      <Wide>
        <table>
          <thead>
            <tr>
              <th class="num">hosts</th>
              <th>difference</th>
              <th>status</th>
              <th>which hosts</th>
            </tr>
          </thead>
          <tbody>
            {groups.map((group) => (
              <OutlierGroupRow group={group} environment={view.environment} />
            ))}
          </tbody>
        </table>
      </Wide>
      {total > groups.length && (
        <p class="muted">
          Showing the first {groups.length} of {total} differences.{' '}
          {view.more && <a href={view.more.href}>Show {view.more.groups}</a>}
        </p>
      )}
    </>
  );
};

const OutlierGroupRow = ({ group, environment }: { group: OutlierCauseGroup; environment: string }) => (
  <tr>
    <td class="num">
      <strong>
        {group.hostCount} {group.hostCount === 1 ? 'host' : 'hosts'}
      </strong>
    </td>
    <td>
      <Difference group={group} environment={environment} />
    </td>
    <td>
      <StatusBadge status={group.status} />
      {group.exception && (
        <>
          {' '}
          <a
            href={`/exceptions#exception-${encodeURIComponent(group.exception.id)}`}
            title="the exception that justifies it"
          >
            {group.exception.reason}
          </a>
        </>
      )}
    </td>
    <td>
      <GroupHosts group={group} environment={environment} />
    </td>
  </tr>
);

/** "`path` 3.0.13 instead of 3.0.15", or the path missing on one side. */
const Difference = ({ group, environment }: { group: OutlierCauseGroup; environment: string }) => {
  const path = (
    <a class="mono" href={factHref(group.path, environment)}>
      {group.path}
    </a>
  );
  if (group.actual === undefined) {
    return (
      <>
        {path} missing <span class="muted">(baseline</span> <FactValueView value={group.expected} />
        <span class="muted">)</span>
      </>
    );
  }
  if (group.expected === undefined) {
    return (
      <>
        {path} <FactValueView value={group.actual} /> <span class="muted">(not in the baseline)</span>
      </>
    );
  }
  return (
    <>
      {path} <FactValueView value={group.actual} /> <span class="muted">instead of</span>{' '}
      <FactValueView value={group.expected} />
    </>
  );
};

const GroupHosts = ({ group, environment }: { group: OutlierCauseGroup; environment: string }) => {
  const more = group.hostCount - group.hosts.length;
  const all = group.actual === undefined ? undefined : hostsWithValueHref(environment, group.path, group.actual);
  return (
    <>
      {group.hosts.map((id, index) => (
        <>
          {index > 0 && ', '}
          <a class="mono" href={`/hosts/${encodeURIComponent(id)}`}>
            {id}
          </a>
        </>
      ))}
      {more > 0 && <> {all === undefined ? <span class="muted">+{more} more</span> : <a href={all}>+{more} more</a>}</>}
    </>
  );
};
