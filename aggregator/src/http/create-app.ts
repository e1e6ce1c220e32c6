/**
 * The HTTP API as a Hono app, independent of any server: tests call `app.request()` against a
 * `:memory:` store, `createAggregator()` serves it with @hono/node-server.
 *
 * Every route is declared in one registry (api-router.ts) with its zod schemas; the OpenAPI
 * document is generated from it. Auth: `/healthz` and `/metrics` are open (liveness probes and
 * Prometheus scrapers rarely carry tokens, and neither leaks host names or facts); every
 * `/api/v1/*` route needs a bearer token (`read`), and some the `admin` scope.
 */
import type { ClassRule, SecretPolicyRule } from '@envparity/shared';
import { Hono } from 'hono';
import type { Logger } from 'pino';
import { createDashboard, notFoundPage, wantsPage } from '../dashboard/dashboard-app.js';
import { SessionStore } from '../dashboard/sessions.js';
import type { DriftEngine } from '../drift/drift-engine.js';
import type { Presence } from '../drift/host-snapshots.js';
import type { AggregatorMetrics } from '../metrics/aggregator-metrics.js';
import { AuditQueries } from '../queries/audit-queries.js';
import { FleetCommands } from '../queries/fleet-commands.js';
import { FleetQueries } from '../queries/fleet-queries.js';
import { HistoryQueries } from '../queries/history-queries.js';
import { PromotionQueries } from '../queries/promotion-queries.js';
import type { FactStore } from '../store/fact-store.js';
import { HSTS_HEADER_VALUE } from '../tls.js';
import { type ApiAuthenticator, type ApiEnv, requireScope } from './api-auth.js';
import { ApiRouter } from './api-router.js';
import { registerAuditLogRoutes } from './audit-log-routes.js';
import { registerAuditRoutes } from './audit-routes.js';
import { requestBodyGuard } from './body-limits.js';
import { registerChangesRoutes } from './changes-routes.js';
import { registerCompareRoutes } from './compare-routes.js';
import { registerDriftRoutes } from './drift-routes.js';
import { registerEnvironmentsRoutes } from './environments-routes.js';
import { createErrorHandler, notFoundHandler } from './error-handler.js';
import { registerExceptionsRoutes } from './exceptions-routes.js';
import { registerFactsRoutes } from './facts-routes.js';
import { registerFleetKeyRoutes } from './fleet-key-routes.js';
import { type AdmissionDisconnector, registerHostAdmissionRoutes } from './host-admission-routes.js';
import { type CollectRequester, registerHostCollectRoutes } from './host-collect-routes.js';
import { type RetiredHostDisconnector, registerHostRetirementRoutes } from './host-retirement-routes.js';
import { registerHostsRoutes } from './hosts-routes.js';
import { registerPromotionRoutes } from './promotion-routes.js';
import { securityHeaders } from './security-headers.js';
import { registerSignInCodesRoutes } from './sign-in-codes-routes.js';
import { registerOpenApiRoute, registerOpenRoutes } from './system-routes.js';
import { registerTokensRoutes } from './tokens-routes.js';

export interface AppDeps {
  store: FactStore;
  presence: Presence;
  metrics: AggregatorMetrics;
  authenticator: ApiAuthenticator;
  logger: Logger;
  drift: DriftEngine;
  /** Class overrides (config `classes`), published with baselines for `verify`. */
  classes?: readonly ClassRule[];
  /** The fleet key agents get at enrollment, served to `verify` tokens by `GET /api/v1/fleet-key`. */
  fleetKey: string;
  /** Closes a retired host's live agent socket (the gateway). */
  agents?: RetiredHostDisconnector & AdmissionDisconnector & CollectRequester;
  /** Environments the config declares ahead of any host (`promotion`, then `environments:`). */
  environments?: readonly string[];
  /** Config `secretPolicy`, used by `/compare`. */
  secretPolicy?: readonly SecretPolicyRule[];
  /** Served over TLS: every answer carries `Strict-Transport-Security`. */
  hsts?: boolean;
  /** Largest request body accepted (413 beyond); default DEFAULT_MAX_BODY_BYTES (1 MB). */
  maxBodyBytes?: number;
  /** Dashboard sessions and sign-in codes (default: a new in-memory store). */
  sessions?: SessionStore;
  now?: () => number;
}

/** The app and its route registry (the OpenAPI document's source). */
export interface ApiApp {
  app: Hono<ApiEnv>;
  router: ApiRouter;
  /** What the routes read through (the dashboard and the CLI use it too). */
  queries: FleetQueries;
  /** Writes the drift engine must hear of (exceptions). */
  commands: FleetCommands;
  audits: AuditQueries;
  promotion: PromotionQueries;
  history: HistoryQueries;
}

export function createApiApp({
  store,
  presence,
  metrics,
  authenticator,
  logger,
  drift,
  classes = [],
  fleetKey,
  agents,
  environments = [],
  secretPolicy = [],
  hsts = false,
  maxBodyBytes,
  now = Date.now,
  sessions = new SessionStore(now),
}: AppDeps): ApiApp {
  const app = new Hono<ApiEnv>();
  app.onError(createErrorHandler(logger));
  app.notFound((c) => (wantsPage(c) ? notFoundPage(c) : notFoundHandler(c)));
  // Paths only: query strings may carry fact values (`?fact=...&value=...`).
  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    logger.debug(
      { method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started) },
      'http request',
    );
  });
  app.use('*', securityHeaders());
  app.use('*', requestBodyGuard(maxBodyBytes));
  if (hsts) {
    app.use('*', async (c, next) => {
      await next();
      c.header('Strict-Transport-Security', HSTS_HEADER_VALUE);
    });
  }
  const router = new ApiRouter(app);
  registerOpenRoutes(router, { metrics });
  app.use('/api/v1/*', requireScope(authenticator, 'read'));
  // Every read of the fleet goes through the queries, every write the engine must hear of through the commands.
  const queries = new FleetQueries({
    store,
    drift,
    presence,
    declaredEnvironments: environments,
    classes,
    secretPolicy,
    now,
  });
  const commands = new FleetCommands({ store, drift, catalog: queries.catalog, now });
  const audits = new AuditQueries({ queries, store, now });
  const promotion = new PromotionQueries({ queries, store, now });
  const history = new HistoryQueries({ queries, store, now });
  const reportDeps = { queries, audits, promotion, history, store, now };
  registerEnvironmentsRoutes(router, { queries, history });
  registerCompareRoutes(router, { queries, history });
  registerHostsRoutes(router, { queries, history });
  registerHostRetirementRoutes(router, { store, agents, now });
  registerHostAdmissionRoutes(router, { store, agents, now });
  registerHostCollectRoutes(router, { store, agents, now });
  registerDriftRoutes(router, { queries });
  registerFactsRoutes(router, { queries });
  registerExceptionsRoutes(router, { queries, commands, store, now });
  registerTokensRoutes(router, { store, now });
  registerAuditLogRoutes(router, { store });
  registerAuditRoutes(router, reportDeps);
  registerPromotionRoutes(router, reportDeps);
  registerChangesRoutes(router, reportDeps);
  registerFleetKeyRoutes(router, { fleetKey });
  registerSignInCodesRoutes(router, { sessions });
  registerOpenApiRoute(router);
  // The dashboard: pages on the same port, reading through the same queries and commands.
  app.route(
    '/',
    createDashboard({
      queries,
      commands,
      audits,
      promotion,
      history,
      store,
      authenticator,
      sessions,
      logger,
      secureCookies: hsts,
      now,
    }),
  );
  return { app, router, queries, commands, audits, promotion, history };
}

/** The Hono app alone (see createApiApp for the registry too). */
export function createApp(deps: AppDeps): Hono<ApiEnv> {
  return createApiApp(deps).app;
}
