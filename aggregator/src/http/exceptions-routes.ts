/**
 * `/api/v1/exceptions`: documented intentional differences (InSpec-style waivers). A difference a
 * rule covers is `justified`: it counts for parity and opens no drift event. Reason required;
 * environments must be ones hosts have reported or the config declares (a typo would silently
 * justify nothing); an expiry must lie in the future. Expired rules stay listed (`expired: true`)
 * and stop matching. Exceptions of the exceptions file (`source: "file:<path>"`) are listed with the
 * others but changed only in the file (deleting one here is a 409).
 */
import type { Context } from 'hono';
import { z } from 'zod';
import { isExceptionExpired } from '../drift/exception-rules.js';
import { NotFoundError } from '../errors.js';
import { EXCEPTION_PATH_HINT, type ExceptionRequest, type FleetCommands } from '../queries/fleet-commands.js';
import type { FleetQueries } from '../queries/fleet-queries.js';
import type { ExceptionRecord, FactStore } from '../store/fact-store.js';
import type { ApiEnv } from './api-auth.js';
import type { ApiRouter } from './api-router.js';
import { createExceptionBodySchema, deletedSchema, exceptionSchema, exceptionsResponseSchema } from './api-schemas.js';
import { recordAdminAction } from './audit-log-routes.js';
import type { FieldHints } from './validation-messages.js';

/** What each field of an exception wants, appended to validation errors. */
export const EXCEPTION_FIELD_HINTS: FieldHints = {
  path: EXCEPTION_PATH_HINT,
  environments: 'name one environment, or the pair the difference is between, e.g. ["staging", "production"]',
  reason: 'say why this difference is intended',
  impact: 'say what the difference changes for users, or leave it out',
  owner: 'name who answers for it (a team or a person), or leave it out',
  expiresAt: 'give an ISO 8601 time in the future such as 2026-12-31T00:00:00Z, or leave it out for no expiry',
};

/**
 * Creates an exception as the request's principal (checked by FleetCommands) and records it in the
 * audit log: what `POST /api/v1/exceptions` and the dashboard's justify form both do.
 */
export async function createAuditedException<E extends ApiEnv>(
  { commands, store }: { commands: FleetCommands; store: Pick<FactStore, 'audit'> },
  c: Context<E>,
  request: ExceptionRequest,
): Promise<ExceptionRecord> {
  // Any context with a `principal` (the API's, the dashboard's) is read the same way.
  const context = c as unknown as Context<ApiEnv>;
  const record = await commands.createExceptionRequest(request, { createdBy: context.get('principal').name });
  const { id, path, environments, reason, expiresAt } = record;
  await recordAdminAction(
    store,
    context,
    'exception.created',
    { id, path, environments, reason, expiresAt },
    record.createdAt,
  );
  return record;
}

/** Deletes an API-made exception (NotFoundError when unknown) and records it in the audit log. */
export async function deleteAuditedException<E extends ApiEnv>(
  { commands, store }: { commands: FleetCommands; store: Pick<FactStore, 'audit'> },
  c: Context<E>,
  id: string,
  at: number,
): Promise<ExceptionRecord> {
  const record = await commands.deleteException(id);
  if (!record) throw new NotFoundError(`unknown exception ${JSON.stringify(id)}`);
  const details = { id: record.id, path: record.path, environments: record.environments };
  await recordAdminAction(store, c as unknown as Context<ApiEnv>, 'exception.deleted', details, at);
  return record;
}

export function registerExceptionsRoutes(
  router: ApiRouter,
  {
    queries,
    commands,
    store,
    now,
  }: {
    queries: FleetQueries;
    commands: FleetCommands;
    /** Where admin actions are recorded (the audit log). */
    store: Pick<FactStore, 'audit'>;
    now: () => number;
  },
): void {
  const toJson = (record: ExceptionRecord): z.input<typeof exceptionSchema> => {
    const out: z.input<typeof exceptionSchema> = {
      id: record.id,
      path: record.path,
      environments: record.environments,
      reason: record.reason,
      expiresAt: record.expiresAt === null ? null : new Date(record.expiresAt).toISOString(),
      createdAt: new Date(record.createdAt).toISOString(),
      expired: isExceptionExpired(record, now()),
      source: record.source ?? 'api',
    };
    if (record.impact !== undefined) out.impact = record.impact;
    if (record.owner !== undefined) out.owner = record.owner;
    if (record.createdBy !== undefined) out.createdBy = record.createdBy;
    return out;
  };

  router.add(
    {
      method: 'post',
      path: '/api/v1/exceptions',
      operationId: 'createException',
      summary: 'Document an intentional difference: matching drift becomes justified',
      description:
        '`environments`: an unordered pair, or one environment for differences inside it (outliers); each must ' +
        'have been reported by a host. `path` is a path glob. `expiresAt` must be in the future; once passed, ' +
        'the exception stops matching, `exception.expired` is published and its differences open drift events. ' +
        'Environments declared in the aggregator config count as known before any host reports them.',
      tag: 'exceptions',
      auth: 'admin',
      body: createExceptionBodySchema,
      hints: EXCEPTION_FIELD_HINTS,
      status: 201,
      response: exceptionSchema,
    },
    async ({ body, c }) => toJson(await createAuditedException({ commands, store }, c, body)),
  );

  router.add(
    {
      method: 'get',
      path: '/api/v1/exceptions',
      operationId: 'listExceptions',
      summary: 'Every exception, expired ones included (`expired: true`)',
      tag: 'exceptions',
      auth: 'read',
      response: exceptionsResponseSchema,
    },
    async () => ({ exceptions: (await queries.exceptions()).map(toJson) }),
  );

  router.add(
    {
      method: 'delete',
      path: '/api/v1/exceptions/:id',
      operationId: 'deleteException',
      summary: 'Delete an exception: the differences it justified are drift again',
      tag: 'exceptions',
      auth: 'admin',
      params: z.strictObject({ id: z.string().min(1) }),
      response: deletedSchema,
      notFound: true,
      conflict: true,
    },
    async ({ params, c }) => {
      await deleteAuditedException({ commands, store }, c, params.id, now());
      return { id: params.id, deleted: true as const };
    },
  );
}
