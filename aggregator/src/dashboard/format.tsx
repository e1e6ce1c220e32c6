/**
 * How facts, times and statuses look on a page. Values are shown in monospace, as JSON when not a
 * string; keyed secret hashes are shortened and labelled (the clear value never reaches the
 * aggregator, and the full hash is no use to a reader); a status is a word with a colour.
 */
import { type FactValue, isSecretHash } from '@envparity/shared';
import type { FC } from 'hono/jsx';

const MAX_VALUE_CHARS = 300;

export const FactValueView: FC<{ value: FactValue | undefined }> = ({ value }) => {
  if (value === undefined) return <span class="muted">(absent)</span>;
  if (typeof value === 'string' && isSecretHash(value)) return <SecretHash value={value} />;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (text.length <= MAX_VALUE_CHARS) return <span class="mono">{text}</span>;
  return (
    <span class="mono" title={`${text.length} characters`}>
      {text.slice(0, MAX_VALUE_CHARS)}…
    </span>
  );
};

/** `hmac-sha256:3f2a9c01…` plus the words, so nobody takes it for a value or a leak. */
export const SecretHash: FC<{ value: string }> = ({ value }) => {
  const colon = value.indexOf(':');
  const scheme = value.slice(0, colon);
  const digest = value.slice(colon + 1);
  return (
    <span class="secret">
      <span class="mono">{`${scheme}:${digest.slice(0, 8)}…`}</span> <small>(secret, compared by hash)</small>
    </span>
  );
};

export const StatusBadge: FC<{ status: string; label?: string }> = ({ status, label }) => (
  <span class={`status ${status}`}>{label ?? status}</span>
);

export function shortFingerprint(fingerprint: string | null | undefined): string {
  if (!fingerprint) return '—';
  return fingerprint.replace(/^sha256:/, '').slice(0, 12);
}

export function percent(share: number): string {
  return `${(Math.floor(share * 1000) / 10).toFixed(1)}%`;
}

export function isoTime(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '—' : new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** "3 min ago", next to the exact time in a title. */
export const TimeAgo: FC<{ at: number | null | undefined; now: number }> = ({ at, now }) => {
  if (at === null || at === undefined) return <span class="muted">never</span>;
  return (
    <time datetime={new Date(at).toISOString()} title={isoTime(at)}>
      {relativeTime(at, now)}
    </time>
  );
};

export function relativeTime(at: number, now: number): string {
  const seconds = Math.round((now - at) / 1000);
  const future = seconds < 0;
  const size = Math.abs(seconds);
  let text: string;
  if (size < 60) text = `${size} s`;
  else if (size < 3600) text = `${Math.round(size / 60)} min`;
  else if (size < 86_400) text = `${Math.round(size / 3600)} h`;
  else text = `${Math.round(size / 86_400)} d`;
  return future ? `in ${text}` : `${text} ago`;
}

/** A query string from defined parameters, for links that keep the page's state. */
export function href(path: string, params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  }
  const query = search.toString();
  return query === '' ? path : `${path}?${query}`;
}
