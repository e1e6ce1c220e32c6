/**
 * The `text` field of a webhook payload: one line a person can read in a chat channel, e.g.
 * `Drift opened in production: host p3 config.env.LOG_LEVEL is "debug", baseline "info"`.
 * Slack (and Mattermost, Discord's Slack-compatible endpoint...) render `text` as mrkdwn, so `&`, `<`
 * and `>` are escaped: a fact value can never ping `<!channel>` or smuggle in a link. Values come
 * from agents, already keyed-hashed when they are secrets; long ones are shortened.
 */
import type { FactValue } from '@envparity/shared';
import type { DriftEvent, DriftEventRecord, EmergencyChangeData, ExceptionExpiredData } from '../drift/events.js';

/** Longest value (in characters of its JSON text) shown in full; longer ones end with `…`. */
export const MAX_WEBHOOK_TEXT_VALUE_CHARS = 80;
/** Longest text line; Slack accepts far more, but a notification should stay one glance. */
export const MAX_WEBHOOK_TEXT_CHARS = 1000;

/** Escapes the three characters Slack's mrkdwn treats as control characters. */
export function escapeSlackText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A value as JSON text (`"debug"`, `8`, `["a","b"]`), or `absent`; never more than one line. */
export function formatTextValue(value: FactValue | undefined): string {
  if (value === undefined) return 'absent';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return shorten(text.replace(/[\r\n\t]+/g, ' '), MAX_WEBHOOK_TEXT_VALUE_CHARS);
}

/** Host names listed in a text; more are counted. */
export const MAX_WEBHOOK_TEXT_HOSTS = 10;

/** `host p3`, or `3 hosts (p1, p2, p3)`; `+N more` past MAX_WEBHOOK_TEXT_HOSTS. */
function hostsText(d: DriftEventRecord): string {
  const hosts = d.hosts ?? (d.hostId !== undefined ? [d.hostId] : []);
  const count = Math.max(d.hostCount ?? hosts.length, hosts.length);
  if (count === 0) return 'no host';
  if (count === 1) return `host ${hosts[0] ?? '?'}`;
  const shown = hosts.slice(0, MAX_WEBHOOK_TEXT_HOSTS);
  const more = count - shown.length;
  return `${count} hosts (${shown.join(', ')}${more > 0 ? `, +${more} more` : ''})`;
}

function driftOpened(d: DriftEventRecord): string {
  switch (d.kind) {
    case 'outlier': {
      const hosts = hostsText(d);
      const plural = (d.hostCount ?? d.hosts?.length ?? 1) > 1;
      if (d.emergency) {
        return (
          `Emergency change in ${d.environment}: ${d.path} is ${formatTextValue(d.actual)} on ${hosts}` +
          `${d.upstream ? `, never seen in ${d.upstream}` : ''} (baseline ${formatTextValue(d.expected)}). ` +
          `To do: promote it through ${d.upstream ?? 'the upstream environment'} or roll it back.`
        );
      }
      const todo = ` To do: bring ${plural ? 'these hosts' : 'the host'} back to the baseline, or record an exception if intended.`;
      if (d.actual === undefined)
        return `Drift opened in ${d.environment}: ${hosts} lacks ${d.path}, baseline ${formatTextValue(d.expected)}.${todo}`;
      if (d.expected === undefined)
        return `Drift opened in ${d.environment}: ${hosts} ${d.path} is ${formatTextValue(d.actual)}, not in the baseline.${todo}`;
      return `Drift opened in ${d.environment}: ${hosts} ${d.path} is ${formatTextValue(d.actual)}, baseline ${formatTextValue(d.expected)}.${todo}`;
    }
    case 'environment': {
      const to = d.otherEnvironment ?? '?';
      const on = d.hosts !== undefined && d.hosts.length > 0 ? ` on ${hostsText(d)}` : '';
      if (d.expected !== undefined && JSON.stringify(d.expected) === JSON.stringify(d.actual)) {
        // Only the secret policy (`expect: differ`) makes equal values a finding.
        return (
          `Secret shared between ${d.environment} and ${to}: ${d.path} has the same keyed hash in both, ` +
          'the secret policy expects them to differ. To do: give each environment its own secret.'
        );
      }
      if (d.emergency) {
        return (
          `Emergency change in ${to}: ${d.path} is ${formatTextValue(d.actual)}${on}, never seen in ` +
          `${d.upstream ?? d.environment} (${formatTextValue(d.expected)} there). ` +
          `To do: promote it through ${d.upstream ?? d.environment} or roll it back.`
        );
      }
      return (
        `Drift opened between ${d.environment} and ${to}: ${d.path} is ${formatTextValue(d.expected)} in ${d.environment}, ` +
        `${formatTextValue(d.actual)} in ${to}${on}. To do: promote the change, or record an exception if the difference is intended.`
      );
    }
    case 'emergency':
      return (
        `Emergency drift opened on ${d.hostId ?? '?'} (${d.environment}): ${d.path} is ${formatTextValue(d.actual)}` +
        (d.upstream ? `, never seen in ${d.upstream}` : '')
      );
    default:
      return `Drift opened in ${d.environment}: ${d.path}`;
  }
}

function justifiedBy(d: DriftEventRecord): string {
  const exception = d.exception;
  return exception
    ? `justified by exception ${exception.id} (${shorten(exception.reason, MAX_WEBHOOK_TEXT_VALUE_CHARS)})`
    : 'justified by an exception';
}

function driftResolved(d: DriftEventRecord): string {
  if (d.kind === 'lost')
    return `Host ${d.hostId ?? '?'} (${d.environment}) is back: it reports again and counts in the baseline`;
  switch (d.kind) {
    case 'outlier': {
      const hosts = d.hosts !== undefined && d.hosts.length > 1 ? hostsText(d) : `host ${d.hostId ?? '?'}`;
      if (d.resolution === 'justified')
        return (
          `Drift justified in ${d.environment}: ${hosts} ${d.path} is ${justifiedBy(d)} ` +
          `(${formatTextValue(d.actual)}, baseline ${formatTextValue(d.expected)})`
        );
      return (
        `Drift resolved in ${d.environment}: ${hosts} ${d.path} no longer differs from the baseline ` +
        `(was ${formatTextValue(d.actual)}, baseline ${formatTextValue(d.expected)})`
      );
    }
    case 'environment': {
      const to = d.otherEnvironment ?? '?';
      if (d.resolution === 'justified')
        return (
          `Drift justified between ${d.environment} and ${to}: ${d.path} is ${justifiedBy(d)} ` +
          `(${formatTextValue(d.expected)} in ${d.environment}, ${formatTextValue(d.actual)} in ${to})`
        );
      return (
        `Drift resolved between ${d.environment} and ${to}: ${d.path} no longer differs ` +
        `(was ${formatTextValue(d.expected)} in ${d.environment}, ${formatTextValue(d.actual)} in ${to})`
      );
    }
    case 'emergency':
      return `Emergency drift resolved on ${d.hostId ?? '?'} (${d.environment}): ${d.path}`;
    default:
      return `Drift resolved in ${d.environment}: ${d.path}`;
  }
}

function hostLost(d: DriftEventRecord): string {
  const id = d.hostId ?? '?';
  const since = d.lastSeen ? ` since ${d.lastSeen}` : '';
  const closed = d.resolvedEvents?.length
    ? `; ${d.resolvedEvents.length} drift event${d.resolvedEvents.length === 1 ? '' : 's'} closed with it`
    : '';
  return (
    `Host ${id} lost in ${d.environment}: no contact${since}, past the presence grace; it no longer counts in ` +
    `the baseline${closed}. To do: check the host and its agent, or retire it (DELETE /api/v1/hosts/${id}).`
  );
}

function emergencyChange(d: EmergencyChangeData): string {
  const head = `Emergency change on ${d.hostId} (${d.environment}): ${d.path}`;
  if (d.value === undefined)
    return `${head} removed (was ${formatTextValue(d.previous)}), ${d.upstream} never lacked it`;
  const change =
    d.previous === undefined
      ? ` set to ${formatTextValue(d.value)}`
      : ` changed from ${formatTextValue(d.previous)} to ${formatTextValue(d.value)}`;
  return `${head}${change}, never seen in ${d.upstream}`;
}

function exceptionExpired(d: ExceptionExpiredData): string {
  const [a, b] = d.environments;
  const scope = b === undefined ? `in ${a}` : `between ${a} and ${b}`;
  const owner = d.owner ? `, owner ${d.owner}` : '';
  return (
    `Exception expired for ${d.path} ${scope} (reason: ${shorten(d.reason, MAX_WEBHOOK_TEXT_VALUE_CHARS)}${owner}); ` +
    'its differences count as drift again'
  );
}

function unescapedText(event: DriftEvent): string {
  switch (event.type) {
    case 'drift.opened':
      return driftOpened(event.data);
    case 'drift.resolved':
      return driftResolved(event.data);
    case 'host.lost':
      return hostLost(event.data);
    case 'emergency.change':
      return emergencyChange(event.data);
    case 'exception.expired':
      return exceptionExpired(event.data);
    default:
      return `envparity event ${(event as { type: string }).type}`;
  }
}

/**
 * The Slack-compatible one-line summary of an event (mrkdwn-escaped, single line, at most
 * MAX_WEBHOOK_TEXT_CHARS). Never throws: an event whose data lacks expected fields still gets a line.
 */
export function formatWebhookText(event: DriftEvent): string {
  let text: string;
  try {
    text = unescapedText(event);
  } catch {
    text = `envparity event ${String((event as { type?: unknown }).type)}`;
  }
  return escapeSlackText(shorten(text.replace(/[\r\n]+/g, ' '), MAX_WEBHOOK_TEXT_CHARS));
}
