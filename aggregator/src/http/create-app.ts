/**
 * The HTTP API as a Hono app, independent of any server: tests call `app.request()` against a
 * `:memory:` store, `createAggregator()` serves it with @hono/node-server.
 *
 * Auth: `/healthz` and `/metrics` are open (liveness probes and Prometheus scrapers rarely carry
 * tokens, and neither leaks host names or facts); every `/api/v1/*` route needs a bearer token.
 */
import { Hono } from 'hono';
import type { Logger } from 'pino';
import type { AggregatorMetrics } from '../metrics/aggregator-metrics.js';
import { PROMETHEUS_CONTENT_TYPE } from '../metrics/registry.js';
import type { FactStore } from '../store/fact-store.js';
import { type ApiAuthenticator, type ApiEnv, requireScope } from './api-auth.js';
import { createErrorHandler, notFoundHandler } from './error-handler.js';
import { createHostsRoutes, type Presence } from './hosts-routes.js';

export interface AppDeps {
  store: FactStore;
  presence: Presence;
  metrics: AggregatorMetrics;
  authenticator: ApiAuthenticator;
  logger: Logger;
}

export function createApp({ store, presence, metrics, authenticator, logger }: AppDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.onError(createErrorHandler(logger));
  app.notFound(notFoundHandler);

  // Paths only: query strings may carry fact values (`?fact=...&value=...`).
  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    logger.debug(
      { method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started) },
      'http request',
    );
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/metrics', (c) => c.body(metrics.render(), 200, { 'content-type': PROMETHEUS_CONTENT_TYPE }));
  // The agent channel is a WebSocket (handled on the server's `upgrade` event); plain GETs land here.
  app.get('/api/v1/agent', (c) =>
    c.json({ error: { code: 'UPGRADE_REQUIRED', message: 'the agent channel is a WebSocket' } }, 426),
  );

  app.use('/api/v1/*', requireScope(authenticator, 'read'));
  app.route('/api/v1/hosts', createHostsRoutes({ store, presence }));
  return app;
}
