/**
 * Failures of an API call, one class per kind, each with a stable `code` callers can switch on
 * (the CLI maps every one of them to exit code 2). The message is the server's own
 * (`{"error":{"code","message"}}`) when it sent one, so it names the problem in its words.
 */

export const API_ERROR_CODES = {
  UNREACHABLE: 'UNREACHABLE',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  BAD_REQUEST: 'BAD_REQUEST',
  CONFLICT: 'CONFLICT',
  SERVER: 'SERVER',
} as const;

export type ApiErrorCode = (typeof API_ERROR_CODES)[keyof typeof API_ERROR_CODES];

export interface ApiErrorDetails {
  /** HTTP status of the answer; absent when there was none (UNREACHABLE). */
  status?: number;
  /** The server's own error code (`INVALID_REQUEST`, `NOT_FOUND`, ...), when it sent one. */
  serverCode?: string;
  method?: string;
  path?: string;
  cause?: unknown;
}

/** Base class of every client failure. */
export class ApiError extends Error {
  override readonly name: string = 'ApiError';
  readonly code: ApiErrorCode;
  readonly status: number | undefined;
  readonly serverCode: string | undefined;
  readonly method: string | undefined;
  readonly path: string | undefined;

  constructor(code: ApiErrorCode, message: string, details: ApiErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.status = details.status;
    this.serverCode = details.serverCode;
    this.method = details.method;
    this.path = details.path;
  }
}

/** No answer: connection refused, DNS failure, TLS failure, timeout. */
export class UnreachableError extends ApiError {
  override readonly name = 'UnreachableError';
  constructor(message: string, details: ApiErrorDetails = {}) {
    super(API_ERROR_CODES.UNREACHABLE, message, details);
  }
}

/** 401: no token, an unknown one or a revoked one. */
export class UnauthorizedError extends ApiError {
  override readonly name = 'UnauthorizedError';
  constructor(message: string, details: ApiErrorDetails = {}) {
    super(API_ERROR_CODES.UNAUTHORIZED, message, details);
  }
}

/** 403: the token's scope is below the route's (a read token on an admin route). */
export class ForbiddenError extends ApiError {
  override readonly name = 'ForbiddenError';
  constructor(message: string, details: ApiErrorDetails = {}) {
    super(API_ERROR_CODES.FORBIDDEN, message, details);
  }
}

/** 404: unknown environment, host, token, exception or route. */
export class NotFoundError extends ApiError {
  override readonly name = 'NotFoundError';
  constructor(message: string, details: ApiErrorDetails = {}) {
    super(API_ERROR_CODES.NOT_FOUND, message, details);
  }
}

/** 400 (and 413, 415): the request was refused as invalid; the message names the field. */
export class BadRequestError extends ApiError {
  override readonly name = 'BadRequestError';
  constructor(message: string, details: ApiErrorDetails = {}) {
    super(API_ERROR_CODES.BAD_REQUEST, message, details);
  }
}

/** 409: valid, but the resource's state forbids it (a file exception, a retired host, history before retention). */
export class ConflictError extends ApiError {
  override readonly name = 'ConflictError';
  constructor(message: string, details: ApiErrorDetails = {}) {
    super(API_ERROR_CODES.CONFLICT, message, details);
  }
}

/** 5xx, or an answer the client cannot read (not JSON where JSON was due). */
export class ServerError extends ApiError {
  override readonly name = 'ServerError';
  constructor(message: string, details: ApiErrorDetails = {}) {
    super(API_ERROR_CODES.SERVER, message, details);
  }
}

/** The error class for a non-2xx status (anything unmapped below 500 counts as a bad request). */
export function errorForStatus(
  status: number,
  message: string,
  details: Omit<ApiErrorDetails, 'status'> = {},
): ApiError {
  const withStatus = { ...details, status };
  if (status === 401) return new UnauthorizedError(message, withStatus);
  if (status === 403) return new ForbiddenError(message, withStatus);
  if (status === 404) return new NotFoundError(message, withStatus);
  if (status === 409) return new ConflictError(message, withStatus);
  if (status >= 500) return new ServerError(message, withStatus);
  return new BadRequestError(message, withStatus);
}
