/**
 * Request body hygiene applied before any route reads a body: bounded request bodies (413) and
 * JSON-only bodies on the API (415), both in the `{error: {code, message}}` shape of error-handler.ts.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

/** Largest request body accepted on any route; an exception or token body is a few hundred bytes. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function errorJson(c: Context, status: 413 | 415, code: string, message: string): Response {
  return c.json({ error: { code, message } }, status);
}

/** Whether the request carries a body (an empty POST, e.g. a rotate-token call, carries none). */
function hasBody(c: Context): boolean {
  const length = c.req.header('content-length');
  if (length !== undefined) return Number(length) > 0;
  if (c.req.header('transfer-encoding') !== undefined) return true;
  // In-process requests (app.request) have neither header: a stream with a declared type counts.
  return c.req.raw.body !== null && c.req.header('content-type') !== undefined;
}

/** `application/json` or any `+json` type, with or without parameters (`; charset=utf-8`). */
export function isJsonContentType(value: string | undefined): boolean {
  if (!value) return false;
  const type = value.split(';', 1)[0]?.trim().toLowerCase() ?? '';
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/**
 * Refuses bodies over `maxBytes` with 413 (counted as the body streams in, so a 200 MB body is
 * never buffered) and, under `/api/v1`, a body whose content type is not JSON with 415.
 */
export function requestBodyGuard(maxBytes = DEFAULT_MAX_BODY_BYTES): MiddlewareHandler {
  const limit = bodyLimit({
    maxSize: maxBytes,
    onError: (c) => {
      // The rest of the body is not read: the socket cannot carry another request, say so.
      c.header('Connection', 'close');
      return errorJson(c, 413, 'PAYLOAD_TOO_LARGE', `request body too large: at most ${maxBytes} bytes are accepted`);
    },
  });
  return async (c, next) => {
    if (!BODY_METHODS.has(c.req.method) || !hasBody(c)) return next();
    if (c.req.path.startsWith('/api/') && !isJsonContentType(c.req.header('content-type'))) {
      return errorJson(
        c,
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        `unsupported content type ${JSON.stringify(c.req.header('content-type') ?? '')}: send Content-Type: application/json`,
      );
    }
    return limit(c, next);
  };
}
