/**
 * `createClient()`: the aggregator's API over Node's global fetch, one method per route of
 * CLIENT_ROUTES. Every failure is an ApiError subclass with a stable `code`; no answer at all
 * (refused, DNS, TLS, timeout) is UNREACHABLE.
 */
import { type ApiError, BadRequestError, errorForStatus, ServerError, UnreachableError } from './errors.js';
import { CLIENT_ROUTES, type ClientOperation, fillPath } from './routes.js';
import type {
  ApiToken,
  AuditDocument,
  AuditFile,
  AuditFormat,
  AuditListItem,
  Baseline,
  CompareResult,
  CreatedToken,
  DriftEvent,
  EnvironmentChange,
  EnvironmentSummary,
  Health,
  HostChange,
  HostDetail,
  HostSummary,
  NewException,
  ParityException,
  Promotion,
  RecordedAudit,
  TokenScope,
} from './types.js';

export const DEFAULT_TIMEOUT_MS = 30_000;

export interface ClientOptions {
  /** Base URL of the aggregator, e.g. `http://127.0.0.1:7300`. */
  url: string;
  /** API token (`Authorization: Bearer`); `/healthz` needs none. */
  token?: string | undefined;
  /** Per request; past it the call fails with UNREACHABLE. */
  timeoutMs?: number;
  /** Default: the global fetch (Node 20). */
  fetch?: typeof fetch;
  userAgent?: string;
}

type Query = Readonly<Record<string, string | number | boolean | undefined>>;

interface CallOptions {
  params?: Readonly<Record<string, string | number>>;
  query?: Query;
  body?: unknown;
}

function describeCause(error: unknown): string {
  let current: unknown = error;
  // fetch wraps the socket error: `TypeError: fetch failed` with `cause: Error: connect ECONNREFUSED ...`.
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  if (current instanceof Error) {
    const code = (current as NodeJS.ErrnoException).code;
    if (current.name === 'TimeoutError') return 'no answer in time';
    return code && !current.message.includes(code) ? `${code}: ${current.message}` : current.message;
  }
  return String(error);
}

function filenameOf(disposition: string | null): string | undefined {
  const match = disposition?.match(/filename="([^"]+)"/);
  return match?.[1];
}

export class EnvparityClient {
  readonly url: string;
  readonly #token: string | undefined;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;
  readonly #userAgent: string;

  constructor({ url, token, timeoutMs = DEFAULT_TIMEOUT_MS, fetch: fetchImpl, userAgent }: ClientOptions) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new BadRequestError(`not a URL: ${JSON.stringify(url)} (expected e.g. http://127.0.0.1:7300)`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new BadRequestError(`not an http(s) URL: ${url}`);
    }
    this.url = parsed.toString().replace(/\/+$/, '');
    this.#token = token || undefined;
    this.#timeoutMs = timeoutMs;
    this.#fetch = fetchImpl ?? globalThis.fetch;
    this.#userAgent = userAgent ?? 'envparity-client/0.1.0';
  }

  /** Sends one request of the table; returns the Response of a success status, else throws. */
  async #send(operation: ClientOperation, { params, query, body }: CallOptions = {}): Promise<Response> {
    const route = CLIENT_ROUTES[operation];
    const path = fillPath(route.path, params);
    const target = new URL(this.url + path);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value === undefined || value === '') continue;
      if (!(route.query as readonly string[]).includes(key))
        throw new Error(`${operation}: query ${key} not in the table`);
      target.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': this.#userAgent };
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const method = route.method.toUpperCase();
    let response: Response;
    try {
      response = await this.#fetch(target, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      throw new UnreachableError(`cannot reach the aggregator at ${this.url}: ${describeCause(error)}`, {
        method,
        path,
        cause: error,
      });
    }
    if (response.ok) return response;
    throw await this.#errorOf(response, method, path);
  }

  async #errorOf(response: Response, method: string, path: string): Promise<ApiError> {
    let text = '';
    try {
      text = await response.text();
    } catch {
      // The body is a courtesy; the status alone decides the class.
    }
    let message = `HTTP ${response.status} ${response.statusText}`.trim();
    let serverCode: string | undefined;
    try {
      const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
      if (typeof parsed.error?.message === 'string') message = parsed.error.message;
      if (typeof parsed.error?.code === 'string') serverCode = parsed.error.code;
    } catch {
      // Not the API's error body (a proxy's HTML page): keep the status line.
    }
    return errorForStatus(response.status, message, { method, path, ...(serverCode ? { serverCode } : {}) });
  }

  async #json<T>(operation: ClientOperation, options?: CallOptions): Promise<T> {
    const response = await this.#send(operation, options);
    const text = await response.text();
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new ServerError(`${operation}: the answer is not JSON (${text.slice(0, 80)})`, {
        status: response.status,
        cause: error,
      });
    }
  }

  /** `GET /healthz` (no token needed). */
  health(): Promise<Health> {
    return this.#json('health');
  }

  listEnvironments(): Promise<EnvironmentSummary[]> {
    return this.#json('listEnvironments');
  }

  getBaseline(environment: string, options: { at?: string } = {}): Promise<Baseline> {
    return this.#json('getBaseline', { params: { env: environment }, query: { at: options.at } });
  }

  /** Two environments (or `host:ID` sides), optionally at a past instant and narrowed to categories. */
  compare(from: string, to: string, options: { at?: string; category?: string } = {}): Promise<CompareResult> {
    return this.#json('compare', { query: { from, to, at: options.at, category: options.category } });
  }

  async listHosts(options: { environment?: string } = {}): Promise<HostSummary[]> {
    const answer = await this.#json<{ hosts: HostSummary[] }>('listHosts', {
      query: { environment: options.environment },
    });
    return answer.hosts;
  }

  getHost(id: string, options: { at?: string } = {}): Promise<HostDetail> {
    return this.#json('getHost', { params: { id }, query: { at: options.at } });
  }

  listHostChanges(
    id: string,
    options: { since?: string; limit?: number } = {},
  ): Promise<{ changes: HostChange[]; truncated: boolean }> {
    return this.#json('listHostChanges', { params: { id }, query: { since: options.since, limit: options.limit } });
  }

  listDrift(
    options: { status?: 'open' | 'resolved'; environment?: string; limit?: number } = {},
  ): Promise<{ events: DriftEvent[]; truncated: boolean }> {
    return this.#json('listDrift', { query: options });
  }

  /** One page of the environment's change feed, newest first; `next` is the `before` of the older page. */
  listEnvironmentChanges(options: {
    environment: string;
    since?: string;
    until?: string;
    path?: string;
    limit?: number;
    before?: string;
  }): Promise<{ environment: string; changes: EnvironmentChange[]; next: string | null }> {
    return this.#json('listEnvironmentChanges', { query: options });
  }

  getPromotion(options: { from?: string; to?: string } = {}): Promise<Promotion> {
    return this.#json('getPromotion', { query: options });
  }

  /** The live audit document (JSON). */
  getAudit(options: { environments?: readonly string[] } = {}): Promise<AuditDocument> {
    return this.#json('getAudit', { query: { environments: options.environments?.join(',') } });
  }

  /** The live audit rendered by the server (`markdown`, `html`, `csv` or `json` as a file). */
  async getAuditFile(format: AuditFormat, options: { environments?: readonly string[] } = {}): Promise<AuditFile> {
    return this.#file(
      await this.#send('getAudit', { query: { format, environments: options.environments?.join(',') } }),
    );
  }

  recordAudit(options: { environments?: readonly string[]; note?: string } = {}): Promise<RecordedAudit> {
    const body: Record<string, unknown> = {};
    if (options.environments) body.environments = options.environments;
    if (options.note) body.note = options.note;
    return this.#json('recordAudit', { body });
  }

  async listAudits(options: { limit?: number } = {}): Promise<AuditListItem[]> {
    const answer = await this.#json<{ audits: AuditListItem[] }>('listAudits', { query: options });
    return answer.audits;
  }

  getRecordedAudit(id: number, options: { since?: number } = {}): Promise<AuditDocument> {
    return this.#json('getRecordedAudit', { params: { id }, query: { since: options.since } });
  }

  async getRecordedAuditFile(id: number, format: AuditFormat, options: { since?: number } = {}): Promise<AuditFile> {
    return this.#file(
      await this.#send('getRecordedAudit', { params: { id }, query: { format, since: options.since } }),
    );
  }

  async #file(response: Response): Promise<AuditFile> {
    return {
      body: await response.text(),
      contentType: response.headers.get('content-type') ?? 'application/octet-stream',
      filename: filenameOf(response.headers.get('content-disposition')),
    };
  }

  async listExceptions(): Promise<ParityException[]> {
    const answer = await this.#json<{ exceptions: ParityException[] }>('listExceptions');
    return answer.exceptions;
  }

  createException(exception: NewException): Promise<ParityException> {
    return this.#json('createException', { body: exception });
  }

  deleteException(id: string): Promise<{ id: string; deleted: true }> {
    return this.#json('deleteException', { params: { id } });
  }

  async listTokens(): Promise<ApiToken[]> {
    const answer = await this.#json<{ tokens: ApiToken[] }>('listTokens');
    return answer.tokens;
  }

  createToken(token: { name: string; scope: TokenScope }): Promise<CreatedToken> {
    return this.#json('createToken', { body: token });
  }

  revokeToken(id: string): Promise<{ id: string; revokedAt: string }> {
    return this.#json('revokeToken', { params: { id } });
  }
}

/** A client for one aggregator; throws BadRequestError for a URL that is not http(s). */
export function createClient(options: ClientOptions): EnvparityClient {
  return new EnvparityClient(options);
}
