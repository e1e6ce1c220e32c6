/**
 * `/api/v1/tokens` (admin): API tokens with the `read`, `verify` (read plus the fleet key, for
 * `verify` on CI runners) or `admin` scope. The clear token is
 * returned once, at creation; the store keeps only its sha256, so a lost token is revoked and
 * replaced, never recovered.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { NotFoundError } from '../errors.js';
import type { ApiTokenRecord, FactStore } from '../store/fact-store.js';
import { hashToken } from '../token-hash.js';
import type { ApiRouter } from './api-router.js';
import { createdTokenSchema, createTokenBodySchema, revokedTokenSchema, tokensResponseSchema } from './api-schemas.js';
import { recordAdminAction } from './audit-log-routes.js';
import type { FieldHints } from './validation-messages.js';

/** What each field of a new token wants, appended to validation errors. */
export const TOKEN_FIELD_HINTS: FieldHints = {
  name: 'name the token after who or what uses it, e.g. "ci-deploy"',
  scope:
    'choose "read" (queries), "verify" (queries and the fleet key, for envparity-agent verify on a CI runner) or "admin" (everything)',
};

/** Prefix of API tokens, so a leaked one is recognisable (secret scanners, logs). */
export const API_TOKEN_PREFIX = 'ept_';

/** 32 random bytes: unguessable, and as URL-safe text easy to put in a header or a CI secret. */
export function generateApiToken(): string {
  return `${API_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function toJson(record: ApiTokenRecord) {
  return {
    id: record.id,
    name: record.name,
    scope: record.scope,
    createdAt: new Date(record.createdAt).toISOString(),
    revokedAt: iso(record.revokedAt),
  };
}

export function registerTokensRoutes(router: ApiRouter, { store, now }: { store: FactStore; now: () => number }): void {
  router.add(
    {
      method: 'post',
      path: '/api/v1/tokens',
      operationId: 'createToken',
      summary: 'Create an API token; the clear token is in this answer only',
      tag: 'tokens',
      auth: 'admin',
      body: createTokenBodySchema,
      hints: TOKEN_FIELD_HINTS,
      status: 201,
      response: createdTokenSchema,
    },
    async ({ body, c }) => {
      const token = generateApiToken();
      const record = await store.createApiToken({ ...body, tokenHash: hashToken(token), at: now() });
      // Never the clear token: its id, name and scope.
      await recordAdminAction(
        store,
        c,
        'token.created',
        { id: record.id, name: record.name, scope: record.scope },
        record.createdAt,
      );
      return {
        id: record.id,
        name: record.name,
        scope: record.scope,
        token,
        createdAt: new Date(record.createdAt).toISOString(),
      };
    },
  );

  router.add(
    {
      method: 'get',
      path: '/api/v1/tokens',
      operationId: 'listTokens',
      summary: 'API tokens (never their clear value), revoked ones included',
      tag: 'tokens',
      auth: 'admin',
      response: tokensResponseSchema,
    },
    async () => ({ tokens: (await store.listApiTokens()).map(toJson) }),
  );

  router.add(
    {
      method: 'delete',
      path: '/api/v1/tokens/:id',
      operationId: 'revokeToken',
      summary: 'Revoke an API token (it stops authenticating at once)',
      tag: 'tokens',
      auth: 'admin',
      params: z.strictObject({ id: z.string().min(1) }),
      response: revokedTokenSchema,
      notFound: true,
    },
    async ({ params, c }) => {
      const at = now();
      if (!(await store.revokeApiToken(params.id, at))) {
        throw new NotFoundError(`unknown or already revoked token ${JSON.stringify(params.id)}`);
      }
      await recordAdminAction(store, c, 'token.revoked', { id: params.id }, at);
      return { id: params.id, revokedAt: new Date(at).toISOString() };
    },
  );
}
