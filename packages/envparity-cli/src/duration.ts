/**
 * Durations (`30s`, `30m`, `2h`, `7d`, `2w`) and instants (`ISO 8601`, or a duration meaning "that
 * long ago" / "that long from now") as the CLI's time flags take them: `--since 2h`,
 * `--at 2026-01-31T12:00:00Z`, `--expires 30d`.
 */
import { UsageError } from './usage-error.js';

export const DURATION_UNITS_MS = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
} as const;

const DURATION = /^(\d+(?:\.\d+)?)(s|m|h|d|w)$/;
/** A date, optionally with a time; a time needs a zone (`Z` or `+02:00`) so the instant is unambiguous. */
const ISO = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2}))?$/;

/** `2h` -> 7_200_000; undefined when `text` is not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const amount = Number(match[1]);
  const unit = match[2] as keyof typeof DURATION_UNITS_MS;
  const ms = amount * DURATION_UNITS_MS[unit];
  return ms > 0 && Number.isFinite(ms) ? ms : undefined;
}

export interface InstantOptions {
  /** The flag, named in the error (`--since`). */
  flag: string;
  /** A duration counts back from now (`past`, `--since 2h`) or forward (`future`, `--expires 30d`). */
  direction: 'past' | 'future';
  now: number;
  command?: string;
}

/** An ISO time or a duration relative to `now`, as an ISO string (UTC, milliseconds). */
export function parseInstant(text: string, { flag, direction, now, command }: InstantOptions): string {
  const trimmed = text.trim();
  const duration = parseDuration(trimmed);
  if (duration !== undefined) return new Date(direction === 'past' ? now - duration : now + duration).toISOString();
  if (ISO.test(trimmed)) {
    const ms = Date.parse(trimmed);
    if (!Number.isNaN(ms)) return new Date(ms).toISOString();
  }
  const example = direction === 'past' ? '2h, 30m, 7d' : '30d, 12h';
  throw new UsageError(
    `${flag} ${JSON.stringify(text)}: expected a duration (${example}) or an ISO 8601 time such as 2026-01-31T12:00:00Z`,
    command,
  );
}
