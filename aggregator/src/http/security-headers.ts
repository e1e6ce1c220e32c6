/**
 * Headers that keep browsers and proxies from sniffing content types, leaking referrers or caching
 * API answers that hold fleet facts. (`Strict-Transport-Security` under TLS is set in create-app.ts.)
 */
import type { MiddlewareHandler } from 'hono';

/**
 * The policy of answers that are data, not pages (JSON, Prometheus text): nothing in them may run,
 * load or be framed even if a browser is tricked into rendering one. The dashboard (HTML) sets its
 * own, stricter-than-default policy for its pages; a handler that set one keeps it.
 */
export const DATA_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/** Headers on every answer; `Cache-Control: no-store` on the API and metrics (they hold live state). */
export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    c.header('X-Content-Type-Options', 'nosniff');
    // Pages keep `same-origin` (set by the dashboard): with `no-referrer` browsers post forms with
    // `Origin: null`, and the CSRF check could not tell our own forms from another site's.
    if (!c.res.headers.has('Referrer-Policy')) c.header('Referrer-Policy', 'no-referrer');
    c.header('X-Frame-Options', 'DENY');
    if (!c.res.headers.has('Content-Security-Policy'))
      c.header('Content-Security-Policy', DATA_CONTENT_SECURITY_POLICY);
    if (c.req.path.startsWith('/api/') || c.req.path === '/metrics') c.header('Cache-Control', 'no-store');
  };
}
