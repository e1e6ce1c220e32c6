/**
 * The few read-only HTTP calls `verify` and `baseline` make to the aggregator: GET with a bearer
 * token, a timeout, and errors that say what to do (never the response body of a secret route).
 *
 * Made with node:http / node:https rather than the global fetch: Node 20's fetch takes no CA and no
 * `checkServerIdentity` without undici's dispatcher (not a dependency), and `--ca` and
 * `--server-fingerprint` must hold for these calls exactly as for the daemon's WebSocket.
 */
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { z } from 'zod';
import {
  assertSecureTransport,
  type ClientTlsOptions,
  describeTlsFailure,
  InsecureTransportError,
} from '../daemon/tls-options.js';
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

/** How to reach the aggregator: pinned CA / fingerprint (`--ca`, `--server-fingerprint`), `--allow-insecure`. */
export interface AggregatorTransport {
  tls?: ClientTlsOptions;
  /** Plain http:// to a non-loopback aggregator is refused (the token would travel in clear) unless set. */
  allowInsecure?: boolean;
}

export interface GetJsonOptions {
  /** Extra words for a status, e.g. what a 403 means on this route. */
  explain?: Partial<Record<number, string>>;
  timeoutMs?: number;
  transport?: AggregatorTransport;
}

interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One GET, no connection reuse (a pooled TLS session would skip the certificate checks on resumption). */
function httpGet(
  url: string,
  headers: Record<string, string>,
  timeoutMs: number,
  tls: ClientTlsOptions,
): Promise<HttpAnswer> {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const onAnswer = (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    };
    const options = { method: 'GET', headers, agent: false as const };
    const req = secure
      ? httpsRequest(target, { ...options, ...tls }, onAnswer)
      : httpRequest(target, options, onAnswer);
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', reject);
    req.on('close', () => clearTimeout(timer));
    req.end();
  });
}

/** GET `base + path` with the token; the parsed body, or a VerifyError naming the status and why. */
export async function getJson<T>(
  base: string,
  path: string,
  token: string,
  schema: z.ZodType<T>,
  { explain = {}, timeoutMs = DEFAULT_HTTP_TIMEOUT_MS, transport = {} }: GetJsonOptions = {},
): Promise<T> {
  try {
    assertSecureTransport(base, transport.allowInsecure ?? false);
  } catch (error) {
    if (error instanceof InsecureTransportError) throw new VerifyError(error.message, { cause: error });
    throw error;
  }
  let response: HttpAnswer;
  try {
    response = await httpGet(
      `${base}${path}`,
      { authorization: `Bearer ${token}`, accept: 'application/json' },
      timeoutMs,
      transport.tls ?? {},
    );
  } catch (cause) {
    const tls = describeTlsFailure(cause);
    if (tls) throw new VerifyError(`TLS check of the aggregator at ${base} failed: ${tls}`, { cause });
    const reason = (cause as NodeJS.ErrnoException).code ?? (cause as Error).message;
    throw new VerifyError(`aggregator unreachable at ${base}: ${reason}`, { cause });
  }
  const body = response.body;
  if (response.status < 200 || response.status > 299) {
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
