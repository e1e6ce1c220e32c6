/** How a host's connection and presence phase look: a word with a colour, on the list and the host page. */
import type { HostPresence } from '../../drift/presence-tracker.js';
import { StatusBadge } from '../format.js';

export const OnlineBadge = ({ online }: { online: boolean }) => <StatusBadge status={online ? 'online' : 'offline'} />;

/** `offline` within the grace still counts in the baseline (amber); `lost` and `retired` do not (red). */
const PHASE_COLOUR: Record<HostPresence, string> = {
  online: 'online',
  offline: 'stale',
  lost: 'offline',
  retired: 'expired',
};

export const PRESENCE_MEANING: Record<HostPresence, string> = {
  online: 'connected, counted in its baseline',
  offline: 'disconnected within the grace: still counted in its baseline',
  lost: 'disconnected past the grace: out of its baseline',
  retired: 'retired: out of every list, history kept',
};

export const PresenceBadge = ({ presence }: { presence: HostPresence | undefined }) =>
  presence === undefined ? (
    <span class="muted">—</span>
  ) : (
    <span title={PRESENCE_MEANING[presence]}>
      <StatusBadge status={PHASE_COLOUR[presence]} label={presence} />
    </span>
  );

/** `k=v` pairs in monospace, sorted by key. */
export const LabelList = ({ labels }: { labels: Readonly<Record<string, string>> }) => {
  const entries = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length === 0) return <span class="muted">none</span>;
  return (
    <>
      {entries.map(([key, value], index) => (
        <>
          {index > 0 && ' '}
          <code>{`${key}=${value}`}</code>
        </>
      ))}
    </>
  );
};
