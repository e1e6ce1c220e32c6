/**
 * Headers that keep browsers and proxies from sniffing content types, leaking referrers or caching
 * API answers that hold fleet facts. (`Strict-Transport-Security` under TLS is set in create-app.ts.)
 */
import type { MiddlewareHandler } from 'hono';

/** Headers on every answer; `Cache-Control: no-store` on the API and metrics (they hold live state). */
export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('X-Frame-Options', 'DENY');
    if (c.req.path.startsWith('/api/') || c.req.path === '/metrics') c.header('Cache-Control', 'no-store');
  };
}
