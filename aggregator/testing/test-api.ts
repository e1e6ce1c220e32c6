/**
 * Route-test helper: an aggregator on a `:memory:` store with a controllable clock and presence,
 * and a request function that checks every answer against the schema its route declares in the
 * registry (errors against the error schema). A route whose answer drifts from its OpenAPI
 * description fails the tests that call it.
 */
import { type Aggregator, type AggregatorOptions, createAggregator } from '../src/aggregator.js';
import type { AnyRouteSpec } from '../src/http/api-router.js';
import { errorBodySchema } from '../src/http/api-schemas.js';
import { FakePresence, T0 } from './drift-fleet.js';

export const ADMIN_TOKEN = 'admin-token';

export interface TestApi {
  aggregator: Aggregator;
  presence: FakePresence;
  clock: { now: number };
  request(method: string, path: string, options?: { token?: string | null; body?: unknown }): Promise<TestResponse>;
  get(path: string, token?: string | null): Promise<TestResponse>;
}

export interface TestResponse {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read JSON freely
  body: any;
  route: AnyRouteSpec | undefined;
}

function routeOf(routes: readonly AnyRouteSpec[], method: string, path: string): AnyRouteSpec | undefined {
  const pathname = new URL(path, 'http://x').pathname;
  return routes.find((route) => {
    if (route.method !== method.toLowerCase()) return false;
    const pattern = new RegExp(`^${route.path.replace(/:[A-Za-z0-9_]+/g, '[^/]+')}$`);
    return pattern.test(pathname);
  });
}

export function createTestApi(options: AggregatorOptions = {}): TestApi {
  const clock = { now: T0 };
  const presence = new FakePresence();
  const aggregator = createAggregator({
    adminToken: ADMIN_TOKEN,
    flushIntervalMs: 1,
    presence,
    now: () => clock.now,
    ...options,
  });
  async function request(
    method: string,
    path: string,
    { token = ADMIN_TOKEN, body }: { token?: string | null; body?: unknown } = {},
  ): Promise<TestResponse> {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await aggregator.app.request(path, {
      method,
      headers,
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    const json = text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
    const route = routeOf(aggregator.routes.routes, method, path);
    const success = route && res.status === (route.status ?? 200);
    const schema = success ? (route.contentType ? undefined : route.response) : errorBodySchema;
    if (schema) {
      const checked = schema.safeParse(json);
      if (!checked.success) {
        throw new Error(
          `${method} ${path} answered ${res.status} off its schema: ${checked.error.message}\n${text.slice(0, 2000)}`,
        );
      }
    }
    return { status: res.status, body: json, route };
  }
  return {
    aggregator,
    presence,
    clock,
    request,
    get: (path, token) => request('GET', path, token === undefined ? {} : { token }),
  };
}
