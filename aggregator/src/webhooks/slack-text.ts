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
export const MAX_WEBHOOK_TEXT_CHARS = 500;

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

function driftOpened(d: DriftEventRecord): string {
  switch (d.kind) {
    case 'outlier': {
      const host = `host ${d.hostId ?? '?'}`;
      if (d.actual === undefined)
        return `Drift opened in ${d.environment}: ${host} lacks ${d.path}, baseline ${formatTextValue(d.expected)}`;
      if (d.expected === undefined)
        return `Drift opened in ${d.environment}: ${host} ${d.path} is ${formatTextValue(d.actual)}, not in the baseline`;
      return `Drift opened in ${d.environment}: ${host} ${d.path} is ${formatTextValue(d.actual)}, baseline ${formatTextValue(d.expected)}`;
    }
    case 'environment': {
      const to = d.otherEnvironment ?? '?';
      return (
        `Drift opened between ${d.environment} and ${to}: ${d.path} is ${formatTextValue(d.expected)} in ${d.environment}, ` +
        `${formatTextValue(d.actual)} in ${to}`
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

function driftResolved(d: DriftEventRecord): string {
  switch (d.kind) {
    case 'outlier':
      return (
        `Drift resolved in ${d.environment}: host ${d.hostId ?? '?'} ${d.path} no longer differs from the baseline ` +
        `(was ${formatTextValue(d.actual)}, baseline ${formatTextValue(d.expected)})`
      );
    case 'environment': {
      const to = d.otherEnvironment ?? '?';
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
