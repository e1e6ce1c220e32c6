/**
 * Drift events as a table (the overview's newest ten, the drift feed's pages): what differs where,
 * whether it is an emergency (a value that skipped its upstream), and how it ended: fixed, justified
 * by an exception (linked), a host lost (with when it was last seen), returned or retired.
 */
import type { DriftEventRecord } from '../../drift/events.js';
import { FactValueView, href, StatusBadge, TimeAgo } from '../format.js';
import { Wide } from '../layout.js';

/** Host ids a row names before "+N more" (an event lists up to 100). */
const HOSTS_SHOWN = 3;

export const DriftEventsTable = ({ events, now }: { events: readonly DriftEventRecord[]; now: number }) => (
  <Wide>
    <table>
      <thead>
        <tr>
          <th>status</th>
          <th>kind</th>
          <th>where</th>
          <th>path</th>
          <th>expected</th>
          <th>actual</th>
          <th>opened</th>
          <th>resolved</th>
        </tr>
      </thead>
      <tbody>
        {events.map((event) => (
          <tr id={`drift-event-${event.id}`}>
            <td>
              <EventStatus event={event} />
            </td>
            <td>{event.kind}</td>
            <td>
              <EventWhere event={event} now={now} />
            </td>
            <td class="path">
              <EventPath event={event} />
            </td>
            <td class="value">
              <EventValue event={event} side="expected" />
            </td>
            <td class="value">
              <EventValue event={event} side="actual" />
            </td>
            <td>
              <TimeAgo at={Date.parse(event.openedAt)} now={now} />
            </td>
            <td>
              <EventResolution event={event} now={now} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  </Wide>
);

const EventStatus = ({ event }: { event: DriftEventRecord }) => (
  <>
    <StatusBadge status={event.status} />
    {event.emergency && (
      <>
        {' '}
        <StatusBadge status="emergency" />
        {event.upstream !== undefined && (
          <>
            <br />
            <small class="muted" title="the value reached this environment before its upstream ever had it">
              skipped {event.upstream}
            </small>
          </>
        )}
      </>
    )}
  </>
);

const EventWhere = ({ event, now }: { event: DriftEventRecord; now: number }) => {
  if (event.kind === 'environment' && event.otherEnvironment !== undefined) {
    return (
      <a href={href('/compare', { from: event.environment, to: event.otherEnvironment })}>
        {`${event.environment} → ${event.otherEnvironment}`}
      </a>
    );
  }
  const hosts = event.hosts ?? (event.hostId !== undefined ? [event.hostId] : []);
  const hostCount = event.hostCount ?? hosts.length;
  return (
    <>
      <a href={`/environments/${encodeURIComponent(event.environment)}`}>{event.environment}</a>
      {hosts.length > 0 && (
        <>
          {': '}
          {hosts.slice(0, HOSTS_SHOWN).map((id, index) => (
            <>
              {index > 0 && ', '}
              <a href={`/hosts/${encodeURIComponent(id)}`}>{id}</a>
            </>
          ))}
          {hostCount > HOSTS_SHOWN && <span class="muted"> +{hostCount - HOSTS_SHOWN} more</span>}
        </>
      )}
      {event.kind === 'lost' && (
        <>
          <br />
          <small class="muted">
            last seen <TimeAgo at={event.lastSeen === undefined ? null : Date.parse(event.lastSeen)} now={now} />
          </small>
        </>
      )}
    </>
  );
};

const EventPath = ({ event }: { event: DriftEventRecord }) => {
  if (event.kind === 'lost') return <span class="muted">(host offline past the grace)</span>;
  const more = (event.count ?? 1) - 1;
  return (
    <>
      <a href={href('/facts', { path: event.path })}>{event.path}</a>
      {more > 0 && (
        <>
          <br />
          <small class="muted" title={(event.paths ?? []).join('\n')}>
            +{more} more {more === 1 ? 'path' : 'paths'} off the baseline
          </small>
        </>
      )}
    </>
  );
};

const EventValue = ({ event, side }: { event: DriftEventRecord; side: 'expected' | 'actual' }) => {
  if (event.kind === 'lost') return <span class="muted">—</span>;
  return side in event ? <FactValueView value={event[side]} /> : <span class="muted">(absent)</span>;
};

/** Why the event resolved: these are the words of `resolution`, said for a reader. */
const RESOLUTION_TEXT: Record<string, string> = {
  fixed: 'fixed: the difference is gone',
  justified: 'justified by an exception',
  'host-lost': 'its hosts were lost',
  returned: 'the host reports again',
  retired: 'the host was retired',
  superseded: 'superseded by a newer event',
};

const EventResolution = ({ event, now }: { event: DriftEventRecord; now: number }) => {
  if (event.status !== 'resolved') return <span class="muted">—</span>;
  const at = event.resolvedAt === undefined ? null : Date.parse(event.resolvedAt);
  return (
    <>
      <TimeAgo at={at} now={now} />
      {event.resolution !== undefined && (
        <>
          <br />
          <small>{RESOLUTION_TEXT[event.resolution] ?? event.resolution}</small>
        </>
      )}
      {event.exception !== undefined && (
        <>
          <br />
          <small>
            <a href={`/exceptions#exception-${encodeURIComponent(event.exception.id)}`}>{event.exception.reason}</a>
          </small>
        </>
      )}
    </>
  );
};
