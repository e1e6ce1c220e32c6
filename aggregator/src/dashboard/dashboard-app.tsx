/**
 * The dashboard: server-rendered pages on the aggregator's own port, reading through the same
 * FleetQueries and FleetCommands as the JSON API. No build step and no client framework; a few
 * lines of script add live refresh, and every page works without them.
 *
 * Routes are registered one by one (never `use('*')`): this app is mounted at `/` next to the API,
 * and its middleware must not reach `/api/v1/*`, `/healthz` or `/metrics`.
 */
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import { ApiError } from '../errors.js';
import type { ApiAuthenticator } from '../http/api-auth.js';
import type { AuditQueries } from '../queries/audit-queries.js';
import type { FleetCommands } from '../queries/fleet-commands.js';
import type { FleetQueries } from '../queries/fleet-queries.js';
import type { HistoryQueries } from '../queries/history-queries.js';
import type { PromotionQueries } from '../queries/promotion-queries.js';
import type { FactStore } from '../store/fact-store.js';
import { DASHBOARD_ASSETS } from './assets.js';
import type { DashboardEnv, PageRouter } from './dashboard-env.js';
import { Notice } from './layout.js';
import { requireViewer } from './page-auth.js';
import { registerPages } from './pages/index.js';
import { renderPage } from './render-page.js';
import type { SessionStore } from './sessions.js';
import { registerSignInPages, registerSignOut } from './sign-in-pages.js';

/** Pages load only our own stylesheet and script; forms post only here; nothing frames them. */
export const PAGE_CONTENT_SECURITY_POLICY =
  "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** A browser asking for a page that does not exist gets a page, not JSON (the API keeps its JSON 404). */
export function wantsPage(c: Context): boolean {
  return !c.req.path.startsWith('/api/') && (c.req.header('accept') ?? '').includes('text/html');
}

export function notFoundPage(c: Context): Response | Promise<Response> {
  c.header('Content-Security-Policy', PAGE_CONTENT_SECURITY_POLICY);
  return renderPage(c as Context<DashboardEnv>, {
    title: 'Not found',
    status: 404,
    body: (
      <section>
        <h1>Not found</h1>
        <Notice kind="error">{`There is no page at ${c.req.path}.`}</Notice>
        <p>
          <a href="/">Back to the overview</a>
        </p>
      </section>
    ),
  });
}

export interface DashboardDeps {
  queries: FleetQueries;
  commands: FleetCommands;
  audits: AuditQueries;
  promotion: PromotionQueries;
  history: HistoryQueries;
  store: Pick<FactStore, 'findApiToken' | 'audit'>;
  authenticator: ApiAuthenticator;
  sessions: SessionStore;
  logger: Logger;
  secureCookies: boolean;
  now: () => number;
}

export function createDashboard(deps: DashboardDeps): Hono<DashboardEnv> {
  const app = new Hono<DashboardEnv>();
  app.onError((error, c) => {
    const status = error instanceof ApiError ? error.status : 500;
    if (status === 500) deps.logger.error({ err: error, path: c.req.path }, 'dashboard page failed');
    const message =
      status === 500 ? 'Something went wrong on the server; the aggregator log has the details.' : error.message;
    return renderPage(c, {
      title: status === 404 ? 'Not found' : 'Error',
      status,
      body: (
        <section>
          <h1>{status === 404 ? 'Not found' : status === 403 ? 'Refused' : 'Error'}</h1>
          <Notice kind="error">{message}</Notice>
          <p>
            <a href="/">Back to the overview</a>
          </p>
        </section>
      ),
    });
  });

  const headers: MiddlewareHandler = async (c, next) => {
    await next();
    c.header('Content-Security-Policy', PAGE_CONTENT_SECURITY_POLICY);
    c.header('Cache-Control', 'no-store');
    // Not `no-referrer`: under it browsers send `Origin: null` on form posts, which the CSRF check refuses.
    c.header('Referrer-Policy', 'same-origin');
  };

  for (const asset of DASHBOARD_ASSETS) {
    app.get(asset.path, (c) => {
      c.header('Cache-Control', 'public, max-age=31536000, immutable');
      return c.body(asset.body, 200, { 'Content-Type': asset.contentType });
    });
  }
  const viewer = requireViewer(deps);
  const open: PageRouter = {
    get: (path, handler) => app.get(path, headers, handler),
    post: (path, handler) => app.post(path, headers, handler),
  };
  const signedIn: PageRouter = {
    get: (path, handler) => app.get(path, headers, viewer, handler),
    post: (path, handler) => app.post(path, headers, viewer, handler),
  };
  registerSignInPages(open, deps);
  registerSignOut(signedIn, deps);
  const { queries, commands, audits, promotion, history, store, now } = deps;
  registerPages(signedIn, { queries, commands, audits, promotion, history, store, now });
  return app;
}
