/**
 * @envparity/client: a typed client of the envparity aggregator API (Node 20 global fetch, no
 * dependencies). The routes it calls are in CLIENT_ROUTES, checked against the aggregator's
 * OpenAPI document by its tests.
 */
export { type ClientOptions, createClient, DEFAULT_TIMEOUT_MS, EnvparityClient } from './client.js';
export {
  API_ERROR_CODES,
  ApiError,
  type ApiErrorCode,
  type ApiErrorDetails,
  BadRequestError,
  ConflictError,
  errorForStatus,
  ForbiddenError,
  NotFoundError,
  ServerError,
  UnauthorizedError,
  UnreachableError,
} from './errors.js';
export { CLIENT_ROUTES, type ClientOperation, type ClientRoute, fillPath } from './routes.js';
export type * from './types.js';
