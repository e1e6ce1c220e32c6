/**
 * Bearer-token authentication of the HTTP API. The bootstrap admin token (ENVPARITY_ADMIN_TOKEN) is
 * held only as its sha256 and compared in constant time; other tokens are looked up in the store by
 * their sha256. Scopes, each including the one before: `read` (queries), `verify` (queries and the
 * fleet key, for `verify` on a CI runner) and `admin` (everything, including managing tokens).
 */
import type { MiddlewareHandler } from 'hono';
import { ForbiddenError, UnauthorizedError } from '../errors.js';
import type { ApiTokenScope, FactStore } from '../store/fact-store.js';
import { hashToken, tokenMatches } from '../token-hash.js';

/** Who a request acts as. */
export interface ApiPrincipal {
  id: string;
  name: string;
  scope: ApiTokenScope;
}

/** Hono environment of authenticated routes. */
export type ApiEnv = { Variables: { principal: ApiPrincipal } };

export interface ApiAuthenticator {
  authenticate(token: string): Promise<ApiPrincipal | undefined>;
}

/** Id of the bootstrap admin principal (it has no row in the tokens table). */
export const BOOTSTRAP_PRINCIPAL_ID = 'bootstrap';

export function createApiAuthenticator({
  store,
  adminToken,
}: {
  store: Pick<FactStore, 'findApiToken'>;
  /** Clear bootstrap admin token; hashed at once. Undefined: only tokens from the store work. */
  adminToken?: string | undefined;
}): ApiAuthenticator {
  const adminHash = adminToken === undefined ? undefined : hashToken(adminToken);
  return {
    async authenticate(token) {
      if (adminHash !== undefined && tokenMatches(token, adminHash)) {
        return { id: BOOTSTRAP_PRINCIPAL_ID, name: 'bootstrap admin token', scope: 'admin' };
      }
      const record = await store.findApiToken(hashToken(token));
      return record ? { id: record.id, name: record.name, scope: record.scope } : undefined;
    },
  };
}

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

/** The token of an `Authorization: Bearer TOKEN` header, else undefined. */
export function bearerTokenOf(header: string | undefined): string | undefined {
  return header === undefined ? undefined : BEARER.exec(header)?.[1];
}

const SCOPE_RANK: Readonly<Record<ApiTokenScope, number>> = { read: 1, verify: 2, admin: 3 };

/** Scopes are ordered: `admin` allows everything, `verify` also every `read` route. */
export function scopeAllows(granted: ApiTokenScope, required: ApiTokenScope): boolean {
  return SCOPE_RANK[granted] >= SCOPE_RANK[required];
}

/** Middleware: 401 without a valid bearer token, 403 when its scope is not enough. */
export function requireScope(authenticator: ApiAuthenticator, scope: ApiTokenScope): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    const token = bearerTokenOf(header);
    if (!token) throw new UnauthorizedError('missing bearer token: send Authorization: Bearer TOKEN');
    const principal = await authenticator.authenticate(token);
    if (!principal) throw new UnauthorizedError('unknown or revoked token');
    if (!scopeAllows(principal.scope, scope))
      throw new ForbiddenError(`this route needs a token with the ${scope} scope`);
    c.set('principal', principal);
    await next();
  };
}
