/**
 * The few read-only HTTP calls `verify` and `baseline` make to the aggregator: GET with a bearer
 * token, a timeout, and errors that say what to do (never the response body of a secret route).
 */
import type { z } from 'zod';
import { VerifyError } from './verify-error.js';

export const DEFAULT_HTTP_TIMEOUT_MS = 10_000;

/** The agent channel path, dropped from a ws:// URL given as `--aggregator` (docs/PROTOCOL.md). */
const AGENT_CHANNEL_SUFFIX = /\/api\/v1\/agent\/?$/;

/**
 * The aggregator's HTTP base URL for what the user gave: `ws` becomes `http`, `wss` becomes
 * `https`; the agent channel path (`/api/v1/agent`) is dropped, any other path (a proxy prefix) kept.
 */
export function apiBaseUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch (cause) {
    throw new VerifyError(`--aggregator: not a URL: ${JSON.stringify(input)}`, { cause });
  }
  const protocols: Record<string, string> = { 'ws:': 'http:', 'wss:': 'https:', 'http:': 'http:', 'https:': 'https:' };
  const protocol = protocols[url.protocol];
  if (!protocol) throw new VerifyError(`--aggregator: expected an http(s):// or ws(s):// URL, got ${url.protocol}//`);
  const prefix = url.pathname.replace(AGENT_CHANNEL_SUFFIX, '').replace(/\/+$/, '');
  return `${protocol}//${url.host}${prefix}`;
}

export interface GetJsonOptions {
  /** Extra words for a status, e.g. what a 403 means on this route. */
  explain?: Partial<Record<number, string>>;
  timeoutMs?: number;
}

/** GET `base + path` with the token; the parsed body, or a VerifyError naming the status and why. */
export async function getJson<T>(
  base: string,
  path: string,
  token: string,
  schema: z.ZodType<T>,
  { explain = {}, timeoutMs = DEFAULT_HTTP_TIMEOUT_MS }: GetJsonOptions = {},
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (cause) {
    const inner = (cause as Error & { cause?: { code?: string; message?: string } }).cause;
    const reason = inner?.code ?? inner?.message ?? (cause as Error).message;
    throw new VerifyError(`aggregator unreachable at ${base}: ${reason}`, { cause });
  }
  const body = await response.text();
  if (!response.ok) {
    let detail = body.slice(0, 200);
    try {
      detail = (JSON.parse(body) as { error?: { message?: string } }).error?.message ?? detail;
    } catch {
      // not JSON: keep the raw start
    }
    const hint = explain[response.status];
    throw new VerifyError(
      `aggregator answered ${response.status} for ${path}: ${hint ? `${hint}${detail ? ` (${detail})` : ''}` : detail}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (cause) {
    throw new VerifyError(`unexpected answer from the aggregator for ${path}: not JSON`, { cause });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new VerifyError(`unexpected answer from the aggregator for ${path}`);
  return parsed.data;
}
