/**
 * Errors raised by the aggregator. Each class is one failure with a stable `code`; API errors also
 * carry the HTTP `status`, so a single `app.onError` maps every failure to `{error:{code, message}}`.
 */
import { EnvparityError } from '@envparity/shared';

/** A failure of the fact store (SQLite); agents whose report failed are closed with 1011 and replay. */
export class StoreError extends EnvparityError {
  constructor(
    code: 'STORE_FAILED' | 'STORE_CLOSED' | 'SCHEMA_TOO_NEW' | 'UNKNOWN_HOST' | 'STORE_CORRUPT' | 'REPORT_REJECTED',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** A StoreError as it is, anything else as STORE_FAILED saying what failed (`what: cause`). */
export function storeFailed(what: string, cause: unknown): StoreError {
  if (cause instanceof StoreError) return cause;
  return new StoreError('STORE_FAILED', `${what}: ${(cause as Error).message}`, { cause });
}

/** Startup failed (port in use, data dir not writable...): the CLI exits 1. */
export class StartupError extends EnvparityError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STARTUP_FAILED', message, options);
  }
}

/** Base of every error the HTTP API answers with: `status` is the HTTP status. */
export class ApiError extends EnvparityError {
  readonly status: 400 | 401 | 403 | 404 | 409 | 500;
  constructor(status: ApiError['status'], code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.status = status;
  }
}

/** No token, or a token that is unknown or revoked. */
export class UnauthorizedError extends ApiError {
  constructor(message = 'a valid bearer token is required') {
    super(401, 'UNAUTHORIZED', message);
  }
}

/** A valid token whose scope does not allow the route (a `read` token on an admin route). */
export class ForbiddenError extends ApiError {
  constructor(message: string) {
    super(403, 'FORBIDDEN', message);
  }
}

/** An unknown route or resource (host id, token id...). */
export class NotFoundError extends ApiError {
  constructor(message: string) {
    super(404, 'NOT_FOUND', message);
  }
}

/** A query or body that does not validate; `field` names the offending field. */
export class InvalidRequestError extends ApiError {
  readonly field: string | undefined;
  constructor(message: string, field?: string) {
    super(400, 'INVALID_REQUEST', message);
    this.field = field;
  }
}

/** The request is valid but the resource's state forbids it (a file exception deleted through the API). */
export class ConflictError extends ApiError {
  constructor(message: string) {
    super(409, 'CONFLICT', message);
  }
}
