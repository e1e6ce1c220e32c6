/**
 * Who may see a page, and which posts are genuine.
 *
 * A page accepts a session cookie (signed in at /login) or `Authorization: Bearer TOKEN` (scripts
 * and tests); without either it redirects to /login, keeping where the user was going. A session
 * whose stored token has been revoked since sign-in ends at its next request.
 *
 * CSRF: the cookie is `SameSite=Strict`, every form carries the session's CSRF token, and a post
 * made with a session must send it back (and, when the browser names one, come from this origin).
 * A bearer-token post needs neither: browsers never attach that header on their own.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { ForbiddenError, UnauthorizedError } from '../errors.js';
import { type ApiAuthenticator, BOOTSTRAP_PRINCIPAL_ID, bearerTokenOf, scopeAllows } from '../http/api-auth.js';
import type { ApiTokenScope, FactStore } from '../store/fact-store.js';
import { hashToken } from '../token-hash.js';
import type { DashboardEnv } from './dashboard-env.js';
import { SESSION_TTL_MS, type SessionStore } from './sessions.js';

export const SESSION_COOKIE = 'envparity_session';

export interface PageAuthDeps {
  authenticator: ApiAuthenticator;
  sessions: SessionStore;
  store: Pick<FactStore, 'findApiToken'>;
  /** Served over TLS: the cookie is `Secure`. */
  secureCookies: boolean;
}

/** The sha256 a stored token's sessions are tied to; undefined for the bootstrap admin token (no row). */
export function sessionTokenHash(principalId: string, token: string): string | undefined {
  return principalId === BOOTSTRAP_PRINCIPAL_ID ? undefined : hashToken(token);
}

export function setSessionCookie(c: Context, id: string, tls: boolean): void {
  setCookie(c, SESSION_COOKIE, id, {
    httpOnly: true,
    sameSite: 'Strict',
    secure: servedOverHttps(c, tls),
    path: '/',
    maxAge: Math.floor(SESSION_TTL_MS / 1000),
  });
}

export function clearSessionCookie(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: '/' });
}

/** Where to go after sign-in: a path on this server only (never `//evil.example` or a URL). */
export function safeNext(next: string | undefined): string {
  // Browsers drop tabs and newlines from URLs and read `\` as `/`, so `/\t/evil.example` would
  // become `//evil.example`; such a `next` is refused outright, and what is left must stay here.
  if (!next?.startsWith('/') || /[\u0000-\u001f\u007f\\]/.test(next)) return '/';
  const base = 'http://envparity.invalid';
  const url = new URL(next, base);
  return url.origin === base ? `${url.pathname}${url.search}${url.hash}` : '/';
}

/** Middleware of every page: sets `viewer`/`principal`, or redirects to /login. */
export function requireViewer({ authenticator, sessions, store }: PageAuthDeps): MiddlewareHandler<DashboardEnv> {
  return async (c, next) => {
    // Only a Bearer header is ours: a proxy in front may add its own (`Basic` for its login), and
    // the browser's session cookie must still work behind it.
    const token = bearerTokenOf(c.req.header('authorization'));
    if (token !== undefined) {
      const principal = await authenticator.authenticate(token);
      if (!principal) throw new UnauthorizedError('unknown or revoked token');
      c.set('principal', principal);
      c.set('viewer', { principal, csrfToken: undefined });
      return next();
    }
    const id = getCookie(c, SESSION_COOKIE);
    const session = id === undefined ? undefined : sessions.get(id);
    const revoked = session?.tokenHash !== undefined && !(await store.findApiToken(session.tokenHash));
    if (!session || revoked) {
      if (id !== undefined) {
        sessions.destroy(id);
        clearSessionCookie(c);
      }
      if (c.req.header('x-envparity-live') !== undefined) return c.text('signed out', 401);
      const url = new URL(c.req.url);
      const target =
        url.pathname === '/' && url.search === ''
          ? '/login'
          : `/login?next=${encodeURIComponent(url.pathname + url.search)}`;
      return c.redirect(target, 303);
    }
    c.set('principal', session.principal);
    c.set('viewer', { principal: session.principal, csrfToken: session.csrfToken });
    return next();
  };
}

/** The form fields of a post, after the CSRF check (ForbiddenError when it fails). */
export async function verifiedForm(c: Context<DashboardEnv>): Promise<Record<string, string>> {
  const form = await c.req.parseBody();
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(form)) if (typeof value === 'string') fields[key] = value;
  const { csrfToken } = c.get('viewer');
  if (csrfToken === undefined) return fields; // bearer token: no ambient credential to forge
  const origin = c.req.header('origin');
  if (origin !== undefined && !isOwnOrigin(c, origin)) {
    throw new ForbiddenError('refused: this form was posted from another site (CSRF protection)');
  }
  if (!sameSecret(fields._csrf ?? '', csrfToken)) {
    throw new ForbiddenError(
      'refused: the form is missing its CSRF token or it is stale; reload the page and try again',
    );
  }
  return fields;
}

/** ForbiddenError unless the viewer's scope allows `scope`. */
export function requirePageScope(c: Context<DashboardEnv>, scope: ApiTokenScope): void {
  const { principal } = c.get('viewer');
  if (!scopeAllows(principal.scope, scope)) {
    throw new ForbiddenError(
      `refused: this needs a token with the ${scope} scope; you are signed in with a ${principal.scope} token`,
    );
  }
}

/**
 * Whether a form's `Origin` is this server: the origin requests arrive on, or, behind a reverse
 * proxy (TLS terminated in front, another port), the host the browser addressed — `Host` or
 * `X-Forwarded-Host`. Trusting those headers is safe here: a cross-site form cannot set them, and
 * the CSRF token is checked as well.
 */
function isOwnOrigin(c: Context, origin: string): boolean {
  if (origin === new URL(c.req.url).origin) return true;
  let host: string;
  try {
    const parsed = new URL(origin);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return false;
    host = parsed.host;
  } catch {
    return false;
  }
  const addressed = [c.req.header('x-forwarded-host')?.split(',')[0]?.trim(), c.req.header('host')];
  return addressed.some((value) => value !== undefined && value.toLowerCase() === host.toLowerCase());
}

/** Whether the browser reached us over HTTPS (directly, or through a TLS-terminating proxy). */
export function servedOverHttps(c: Context, tls: boolean): boolean {
  return tls || c.req.header('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase() === 'https';
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
