/**
 * The single place where failures become HTTP responses: `{error: {code, message}}` with the status
 * of the error class. Unexpected errors are logged (name and message only, never request data) and
 * answered with a generic 500.
 */
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from 'pino';
import { ApiError } from '../errors.js';

export interface ErrorBody {
  error: { code: string; message: string };
}

function errorResponse(c: Context, status: ContentfulStatusCode, code: string, message: string) {
  return c.json<ErrorBody>({ error: { code, message } }, status);
}

export function createErrorHandler(logger: Logger): ErrorHandler {
  return (error, c) => {
    if (error instanceof ApiError) return errorResponse(c, error.status, error.code, error.message);
    if (error instanceof HTTPException) {
      const status = error.status as ContentfulStatusCode;
      return errorResponse(c, status, status === 404 ? 'NOT_FOUND' : 'HTTP_ERROR', error.message || 'request failed');
    }
    logger.error(
      { err: { name: error.name, message: error.message }, method: c.req.method, path: c.req.path },
      'request failed',
    );
    return errorResponse(c, 500, 'INTERNAL', 'internal error');
  };
}

export const notFoundHandler: NotFoundHandler = (c) =>
  errorResponse(c, 404, 'NOT_FOUND', `no route for ${c.req.method} ${c.req.path}`);
