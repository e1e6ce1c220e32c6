/**
 * The one table of the routes this client calls: method, OpenAPI path template, the query
 * parameters it may send and the top-level answer properties it reads. `routes.test.ts` checks
 * every entry against the aggregator's own `GET /api/v1/openapi.json`, so a renamed route, query
 * parameter or answer field breaks the client's tests, not its users.
 */

export interface ClientRoute {
  readonly method: 'get' | 'post' | 'delete';
  /** OpenAPI syntax: `/api/v1/hosts/{id}`. */
  readonly path: string;
  /** Query parameters the client may send. */
  readonly query: readonly string[];
  /** Top-level properties of the success answer the client reads (of each item for an array answer). */
  readonly reads: readonly string[];
  /** The success answer is a JSON array (`GET /api/v1/environments`). */
  readonly array?: boolean;
  /** Success status other than 200. */
  readonly status?: 201;
}

export const CLIENT_ROUTES = {
  health: { method: 'get', path: '/healthz', query: [], reads: ['status'] },
  listEnvironments: {
    method: 'get',
    path: '/api/v1/environments',
    query: [],
    reads: ['name', 'hosts', 'online', 'fingerprint', 'stale', 'outlierHosts', 'openDrift', 'upstream', 'downstream'],
    array: true,
  },
  getBaseline: {
    method: 'get',
    path: '/api/v1/environments/{env}/baseline',
    query: ['at'],
    reads: ['environment', 'hosts', 'stale', 'fingerprint', 'facts', 'ties'],
  },
  compare: {
    method: 'get',
    path: '/api/v1/compare',
    query: ['from', 'to', 'category', 'at'],
    reads: ['from', 'to', 'parity', 'compared', 'differences', 'sides', 'fromAt', 'toAt'],
  },
  listHosts: { method: 'get', path: '/api/v1/hosts', query: ['environment'], reads: ['hosts'] },
  getHost: {
    method: 'get',
    path: '/api/v1/hosts/{id}',
    query: ['at'],
    reads: [
      'id',
      'environment',
      'labels',
      'online',
      'lastSeen',
      'fingerprint',
      'presence',
      'agentVersion',
      'enrolledAt',
      'facts',
      'retiredAt',
      'at',
      'historyStartsAt',
    ],
  },
  listHostChanges: {
    method: 'get',
    path: '/api/v1/hosts/{id}/changes',
    query: ['since', 'limit'],
    reads: ['changes', 'truncated'],
  },
  listDrift: {
    method: 'get',
    path: '/api/v1/drift',
    query: ['status', 'environment', 'limit'],
    reads: ['events', 'truncated'],
  },
  listEnvironmentChanges: {
    method: 'get',
    path: '/api/v1/changes',
    query: ['environment', 'since', 'until', 'path', 'limit', 'before'],
    reads: ['environment', 'changes', 'next'],
  },
  getPromotion: {
    method: 'get',
    path: '/api/v1/promotion',
    query: ['from', 'to'],
    reads: ['at', 'pairs', 'note', 'historyTruncated'],
  },
  getAudit: {
    method: 'get',
    path: '/api/v1/audit',
    query: ['environments', 'format'],
    reads: ['schema', 'generatedAt', 'audit', 'environments', 'withoutHosts', 'summary', 'pairs', 'since'],
  },
  recordAudit: {
    method: 'post',
    path: '/api/v1/audits',
    query: [],
    reads: ['id', 'at', 'author', 'environments', 'summary'],
    status: 201,
  },
  listAudits: { method: 'get', path: '/api/v1/audits', query: ['limit'], reads: ['audits', 'truncated'] },
  getRecordedAudit: {
    method: 'get',
    path: '/api/v1/audits/{id}',
    query: ['since', 'format'],
    reads: ['schema', 'generatedAt', 'audit', 'environments', 'withoutHosts', 'summary', 'pairs', 'since'],
  },
  listExceptions: { method: 'get', path: '/api/v1/exceptions', query: [], reads: ['exceptions'] },
  createException: {
    method: 'post',
    path: '/api/v1/exceptions',
    query: [],
    reads: ['id', 'path', 'environments', 'reason', 'impact', 'owner', 'expiresAt', 'createdAt', 'expired', 'source'],
    status: 201,
  },
  deleteException: { method: 'delete', path: '/api/v1/exceptions/{id}', query: [], reads: ['id', 'deleted'] },
  listTokens: { method: 'get', path: '/api/v1/tokens', query: [], reads: ['tokens'] },
  createToken: {
    method: 'post',
    path: '/api/v1/tokens',
    query: [],
    reads: ['id', 'name', 'scope', 'token', 'createdAt'],
    status: 201,
  },
  revokeToken: { method: 'delete', path: '/api/v1/tokens/{id}', query: [], reads: ['id', 'revokedAt'] },
} as const satisfies Record<string, ClientRoute>;

export type ClientOperation = keyof typeof CLIENT_ROUTES;

/** `/api/v1/hosts/{id}` with `{id: "web 1"}` -> `/api/v1/hosts/web%201`. */
export function fillPath(template: string, params: Readonly<Record<string, string | number>> = {}): string {
  return template.replace(/\{([A-Za-z0-9_]+)\}/g, (_match, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`missing path parameter ${name} for ${template}`);
    return encodeURIComponent(String(value));
  });
}
