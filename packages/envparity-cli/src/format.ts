/** How values, times, ages and ratios read in the CLI's tables. */
import type { FactValue } from '@envparity/client';

/** A fact value as compare shows it: strings as is, others as JSON, absent as `-`. */
export function formatValue(value: FactValue | undefined): string {
  if (value === undefined) return '-';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** `3d 4h`, `2h 5m`, `5m 3s`, `12s`: the two largest units. */
export function formatAge(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const units: [string, number][] = [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ];
  const parts: string[] = [];
  let rest = s;
  for (const [unit, size] of units) {
    if (parts.length === 0 && rest < size && unit !== 's') continue;
    parts.push(`${Math.floor(rest / size)}${unit}`);
    rest %= size;
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}

/** `2026-01-31T12:00:00.123Z` -> `2026-01-31 12:00:00Z`; null/undefined -> `-`. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
}

/** `0.875` -> `87.5%`, `1` -> `100%`; rounded down, so anything short of parity never reads 100%. */
export function formatPercent(ratio: number): string {
  const percent = Math.floor(ratio * 1000 + 1e-9) / 10;
  return `${Number.isInteger(percent) ? percent.toFixed(0) : percent.toFixed(1)}%`;
}

/** `ep1:3f2a...` -> `3f2a9c1b7d4e` (12 hex digits: enough to tell environments apart). */
export function shortFingerprint(fingerprint: string | null | undefined): string {
  if (!fingerprint) return '-';
  return fingerprint.replace(/^ep\d+:/, '').slice(0, 12);
}

/** `{service: "api", tier: "web"}` -> `service=api,tier=web`. */
export function formatLabels(labels: Readonly<Record<string, string>> | undefined): string {
  const entries = Object.entries(labels ?? {});
  return entries.length === 0 ? '-' : entries.map(([key, value]) => `${key}=${value}`).join(',');
}
