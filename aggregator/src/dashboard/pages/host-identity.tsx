/** Who a host is: id, hostname, environment, labels, agent, enrollment, contact, presence, fingerprint. */
import type { FactMap } from '@envparity/shared';
import type { HostPresence } from '../../drift/presence-tracker.js';
import type { HostView } from '../../store/fact-store.js';
import { FactValueView, href, isoTime, StatusBadge, shortFingerprint, TimeAgo } from '../format.js';
import { LabelList, OnlineBadge, PRESENCE_MEANING, PresenceBadge } from './host-presence.js';

export interface HostIdentityProps {
  host: HostView;
  facts: FactMap;
  online: boolean;
  presence: HostPresence | undefined;
  now: number;
}

export const HostIdentity = ({ host, facts, online, presence, now }: HostIdentityProps) => (
  <div class="card">
    <dl>
      <dt>id</dt>
      <dd class="mono">{host.id}</dd>
      <dt>hostname</dt>
      <dd>
        <FactValueView value={facts['host.hostname']} />
      </dd>
      <dt>environment</dt>
      <dd>
        {host.environment === null ? (
          <span class="muted">none declared</span>
        ) : (
          <>
            <a href={`/environments/${encodeURIComponent(host.environment)}`}>{host.environment}</a>{' '}
            <small>
              (
              <a href={href('/compare', { from: host.environment, to: `host:${host.id}` })}>
                compare with its environment
              </a>
              )
            </small>
          </>
        )}
      </dd>
      <dt>labels</dt>
      <dd>
        <LabelList labels={host.labels} />
      </dd>
      <dt>agent version</dt>
      <dd class="mono">{host.agentVersion ?? '—'}</dd>
      <dt>enrolled</dt>
      <dd>
        <TimeAgo at={host.enrolledAt} now={now} /> <span class="muted mono">{isoTime(host.enrolledAt)}</span>
      </dd>
      <dt>last seen</dt>
      <dd>
        <TimeAgo at={host.lastSeen} now={now} /> <span class="muted mono">{isoTime(host.lastSeen)}</span>
      </dd>
      <dt>agent</dt>
      <dd>
        <OnlineBadge online={online} />
      </dd>
      {presence !== undefined && (
        <>
          <dt>presence</dt>
          <dd>
            <PresenceBadge presence={presence} /> <span class="muted">{PRESENCE_MEANING[presence]}</span>
          </dd>
        </>
      )}
      <dt>fingerprint</dt>
      <dd class="mono" title={host.fingerprint ?? undefined}>
        {shortFingerprint(host.fingerprint)}
      </dd>
      {host.retiredAt !== null && (
        <>
          <dt>retired</dt>
          <dd>
            <StatusBadge status="expired" label="retired" /> <TimeAgo at={host.retiredAt} now={now} />
            {host.retiredBy !== null && <span class="muted"> by {host.retiredBy}</span>}
          </dd>
        </>
      )}
    </dl>
  </div>
);
