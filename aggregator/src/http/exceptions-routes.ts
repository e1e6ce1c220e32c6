/**
 * `/api/v1/exceptions`: documented intentional differences (InSpec-style waivers). A difference a
 * rule covers is `justified`: it counts for parity and opens no drift event. Reason required;
 * environments must be ones hosts have reported (a typo would silently justify nothing); an expiry
 * must lie in the future. Expired rules stay listed (`expired: true`) and stop matching.
 */
import { compilePathGlob } from '@envparity/shared';
import { z } from 'zod';
import type { DriftEngine } from '../drift/drift-engine.js';
import { isExceptionExpired } from '../drift/exception-rules.js';
import { InvalidRequestError, NotFoundError } from '../errors.js';
import type { ExceptionRecord, FactStore } from '../store/fact-store.js';
import type { ApiRouter } from './api-router.js';
import { createExceptionBodySchema, deletedSchema, exceptionSchema, exceptionsResponseSchema } from './api-schemas.js';

export function registerExceptionsRoutes(
  router: ApiRouter,
  { engine, store, now }: { engine: DriftEngine; store: FactStore; now: () => number },
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
        'the exception stops matching, `exception.expired` is published and its differences open drift events.',
      tag: 'exceptions',
      auth: 'admin',
      body: createExceptionBodySchema,
      status: 201,
      response: exceptionSchema,
    },
    async ({ body, c }) => {
      try {
        compilePathGlob(body.path);
      } catch (error) {
        throw new InvalidRequestError(`invalid body: path: ${(error as Error).message}`, 'path');
      }
      const known = engine.environments();
      body.environments.forEach((name, index) => {
        if (!known.includes(name)) {
          throw new InvalidRequestError(
            `invalid body: environments[${index}]: unknown environment ${JSON.stringify(name)}: no host has reported it`,
            'environments',
          );
        }
      });
      const at = now();
      let expiresAt: number | null = null;
      if (body.expiresAt !== undefined && body.expiresAt !== null) {
        expiresAt = Date.parse(body.expiresAt);
        if (expiresAt <= at)
          throw new InvalidRequestError('invalid body: expiresAt: must be in the future', 'expiresAt');
      }
      const record = await store.createException({
        path: body.path,
        environments: body.environments,
        reason: body.reason,
        ...(body.impact !== undefined ? { impact: body.impact } : {}),
        ...(body.owner !== undefined ? { owner: body.owner } : {}),
        expiresAt,
        createdAt: at,
        createdBy: c.get('principal').name,
      });
      engine.exceptionsChanged(record.environments);
      return toJson(record);
    },
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
    async () => {
      await engine.checkExpiredExceptions();
      return { exceptions: store.listExceptions().map(toJson) };
    },
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
    },
    async ({ params }) => {
      const record = store.listExceptions().find((candidate) => candidate.id === params.id);
      if (!record || !(await store.deleteException(params.id))) {
        throw new NotFoundError(`unknown exception ${JSON.stringify(params.id)}`);
      }
      engine.exceptionsChanged(record.environments);
      return { id: params.id, deleted: true as const };
    },
  );
}
