/**
 * `GET /api/v1/audit-log` (admin): the audit trail of admin actions and enrollments, newest first,
 * paged with `limit` and `before` (the `id` of the last entry of the previous page). Also the one
 * helper every admin route calls after its action succeeded, so each entry has the same actor
 * (the API token's id) and source (the request's remote address).
 */
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { z } from 'zod';
import type { AuditAction } from '../store/audit-log.js';
import type { FactStore } from '../store/fact-store.js';
import type { ApiEnv } from './api-auth.js';
import type { ApiRouter } from './api-router.js';
import { isoDateTime, limitQuery } from './api-schemas.js';

/** Default and largest page of `GET /api/v1/audit-log`. */
export const DEFAULT_AUDIT_LOG_LIMIT = 100;
export const MAX_AUDIT_LOG_LIMIT = 1000;

export const auditEntrySchema = z.object({
  id: z.number().int().meta({ description: 'Increasing with every entry; page on with `before=<last id>`.' }),
  at: isoDateTime,
  actor: z.string().meta({
    description:
      'The API token id (`bootstrap` for the bootstrap admin token), `enroll-secret` for an enrollment, or `agent:<hostId>`.',
  }),
  action: z.string().meta({
    description:
      '`token.created` `token.revoked` `exception.created` `exception.deleted` `host.enrolled` `host.reenrolled` ' +
      '`host.retired` `host.approved` `audit.recorded`, ...',
  }),
  source: z
    .string()
    .nullable()
    .meta({ description: 'Remote address of the request or agent socket, null when unknown.' }),
  details: z.record(z.string(), z.unknown()).meta({ description: 'What the action was about; never a secret.' }),
});

export const auditLogResponseSchema = z.object({
  entries: z.array(auditEntrySchema),
  truncated: z.boolean().meta({ description: 'More (older) entries exist: ask again with `before` = the last `id`.' }),
});

export const auditLogQuerySchema = z.strictObject({
  limit: limitQuery(MAX_AUDIT_LOG_LIMIT, DEFAULT_AUDIT_LOG_LIMIT),
  before: z.coerce.number().int().min(1).optional().meta({ description: 'Only entries with a smaller `id`.' }),
});

/**
 * Remote address of an HTTP request: @hono/node-server passes the Node request as `c.env.incoming`.
 * Null under `app.request()` (tests) or another runtime.
 */
export function requestSource(c: Context): string | null {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress ?? null;
}

/**
 * Appends the audit entry of an admin action that just succeeded, as the request's principal (its
 * token id) from the request's address. `details` must hold ids, names and scopes, never a secret.
 */
export async function recordAdminAction(
  store: Pick<FactStore, 'audit'>,
  c: Context<ApiEnv>,
  action: AuditAction,
  details: Record<string, unknown>,
  at: number = Date.now(),
): Promise<void> {
  await store.audit.append({ at, actor: c.get('principal').id, action, source: requestSource(c), details });
}

export function registerAuditLogRoutes(router: ApiRouter, { store }: { store: FactStore }): void {
  router.add(
    {
      method: 'get',
      path: '/api/v1/audit-log',
      operationId: 'getAuditLog',
      summary: 'Admin actions and enrollments, newest first',
      description:
        'Every API token created or revoked, exception created or deleted, host retired or approved, audit ' +
        'recorded, and every enrollment: who (`actor`), when, from where (`source`) and what (`details`). ' +
        'Append-only; never holds a token, the enroll secret or the fleet key.',
      tag: 'audit-log',
      auth: 'admin',
      query: auditLogQuerySchema,
      response: auditLogResponseSchema,
    },
    async ({ query }) => {
      const rows = await store.audit.list({
        limit: query.limit + 1,
        ...(query.before !== undefined ? { before: query.before } : {}),
      });
      return {
        entries: rows.slice(0, query.limit).map((entry) => ({
          id: entry.id,
          at: new Date(entry.at).toISOString(),
          actor: entry.actor,
          action: entry.action,
          source: entry.source,
          details: entry.details,
        })),
        truncated: rows.length > query.limit,
      };
    },
  );
}
