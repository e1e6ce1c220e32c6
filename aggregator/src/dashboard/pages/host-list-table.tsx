/** One page of the host list as a table, with the paging links that keep the filters. */
import type { HostPresence } from '../../drift/presence-tracker.js';
import type { HostView } from '../../store/fact-store.js';
import { href, shortFingerprint, TimeAgo } from '../format.js';
import { Wide } from '../layout.js';
import { LabelList, OnlineBadge, PresenceBadge } from './host-presence.js';

export interface HostRow {
  host: HostView;
  online: boolean;
  presence?: HostPresence;
}

export const HostsTable = ({ rows, now }: { rows: readonly HostRow[]; now: number }) => (
  <Wide>
    <table>
      <thead>
        <tr>
          <th>host</th>
          <th>environment</th>
          <th>agent</th>
          <th>presence</th>
          <th>labels</th>
          <th>version</th>
          <th>last seen</th>
          <th>fingerprint</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(({ host, online, presence }) => (
          <tr>
            <td class="path">
              <a href={`/hosts/${encodeURIComponent(host.id)}`}>{host.id}</a>
            </td>
            <td>
              {host.environment === null ? (
                <span class="muted">none</span>
              ) : (
                <a href={`/environments/${encodeURIComponent(host.environment)}`}>{host.environment}</a>
              )}
            </td>
            <td>
              <OnlineBadge online={online} />
            </td>
            <td>
              <PresenceBadge presence={presence} />
            </td>
            <td>
              <LabelList labels={host.labels} />
            </td>
            <td class="mono">{host.agentVersion ?? '—'}</td>
            <td>
              <TimeAgo at={host.lastSeen} now={now} />
            </td>
            <td class="mono" title={host.fingerprint ?? undefined}>
              {shortFingerprint(host.fingerprint)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  </Wide>
);

/** "previous" / "next" links of a numbered list; `linkParams` are the filters to keep. */
export const PageLinks = ({
  path,
  page,
  pages,
  linkParams,
}: {
  path: string;
  page: number;
  pages: number;
  linkParams: Record<string, string | undefined>;
}) => {
  if (pages <= 1 && page === 1) return null;
  const to = (target: number) => href(path, { ...linkParams, page: target === 1 ? undefined : target });
  return (
    <nav class="pager" aria-label="pages">
      {page > 1 ? (
        <a href={to(Math.min(page - 1, pages))} rel="prev">
          ← previous
        </a>
      ) : (
        <span class="muted">← previous</span>
      )}
      <span>
        page {page} of {pages}
      </span>
      {page < pages ? (
        <a href={to(page + 1)} rel="next">
          next →
        </a>
      ) : (
        <span class="muted">next →</span>
      )}
    </nav>
  );
};
