/**
 * /login and /logout: a person pastes an API token (read or admin) and gets a session; a one-time
 * code from `npm start` or `POST /api/v1/sign-in-codes` does the same in one click. The token is
 * checked once, here, and never stored in the browser.
 */
import { getCookie } from 'hono/cookie';
import type { Logger } from 'pino';
import type { PageRouter } from './dashboard-env.js';
import { Notice } from './layout.js';
import {
  clearSessionCookie,
  type PageAuthDeps,
  SESSION_COOKIE,
  safeNext,
  sessionTokenHash,
  setSessionCookie,
  verifiedForm,
} from './page-auth.js';
import { renderPage } from './render-page.js';
import type { SessionStore } from './sessions.js';

const SignInForm = ({ next, error }: { next: string; error?: string }) => (
  <section>
    <h1>Sign in</h1>
    {error !== undefined && <Notice kind="error">{error}</Notice>}
    <form class="stack" method="post" action="/login">
      <input type="hidden" name="next" value={next} />
      <label>
        API token (read or admin)
        <input type="password" name="token" autocomplete="off" required autofocus size={60} />
      </label>
      <div>
        <button class="primary" type="submit">
          Sign in
        </button>
      </div>
    </form>
    <p class="muted">
      The token is checked once and exchanged for a session cookie; it is not kept in the browser.{' '}
      <code>npm start</code> prints a one-click sign-in link for the local admin. Create read tokens with{' '}
      <code>POST /api/v1/tokens</code>.
    </p>
  </section>
);

const USED_CODE = 'This sign-in link was already used or has expired. Paste a token instead.';

const CodeSignInForm = ({ code, next }: { code: string; next: string }) => (
  <section>
    <h1>Sign in</h1>
    <p>This one-time link signs this browser in to the dashboard.</p>
    <form method="post" action="/login">
      <input type="hidden" name="code" value={code} />
      <input type="hidden" name="next" value={next} />
      <button class="primary" type="submit" autofocus>
        Sign in
      </button>
    </form>
  </section>
);

export function registerSignInPages(
  app: PageRouter,
  { authenticator, sessions, secureCookies, logger }: PageAuthDeps & { logger: Logger },
): void {
  app.get('/login', (c) => {
    const code = c.req.query('code');
    const next = safeNext(c.req.query('next'));
    if (code === undefined) return renderPage(c, { title: 'Sign in', body: <SignInForm next={next} /> });
    // Opening the link only shows a button: link scanners and chat previews fetch it with GET,
    // and must neither use the code up nor get the session; the person's click posts it.
    if (!sessions.hasCode(code)) {
      return renderPage(c, {
        title: 'Sign in',
        status: 401,
        body: <SignInForm next={next} error={USED_CODE} />,
      });
    }
    return renderPage(c, { title: 'Sign in', body: <CodeSignInForm code={code} next={next} /> });
  });

  app.post('/login', async (c) => {
    const form = await c.req.parseBody();
    const token = typeof form.token === 'string' ? form.token.trim() : '';
    const code = typeof form.code === 'string' ? form.code : undefined;
    const next = safeNext(typeof form.next === 'string' ? form.next : undefined);
    const origin = c.req.header('origin');
    if (origin !== undefined && origin !== new URL(c.req.url).origin) {
      return renderPage(c, {
        title: 'Sign in',
        status: 403,
        body: <SignInForm next={next} error="Sign-in from another site refused." />,
      });
    }
    if (code !== undefined) {
      const redeemed = sessions.redeemCode(code);
      if (!redeemed) {
        return renderPage(c, { title: 'Sign in', status: 401, body: <SignInForm next={next} error={USED_CODE} /> });
      }
      const { id } = sessions.create(redeemed.principal, redeemed.tokenHash);
      setSessionCookie(c, id, secureCookies);
      logger.info({ principal: redeemed.principal.id, via: 'code' }, 'dashboard sign-in');
      return c.redirect(next, 303);
    }
    const principal = token === '' ? undefined : await authenticator.authenticate(token);
    if (!principal) {
      return renderPage(c, {
        title: 'Sign in',
        status: 401,
        body: <SignInForm next={next} error={token === '' ? 'Paste an API token.' : 'Unknown or revoked token.'} />,
      });
    }
    const { id } = sessions.create(principal, sessionTokenHash(principal.id, token));
    setSessionCookie(c, id, secureCookies);
    logger.info({ principal: principal.id, via: 'token' }, 'dashboard sign-in');
    return c.redirect(next, 303);
  });
}

/** POST /logout: needs the session (and its CSRF token), ends it. */
export function registerSignOut(app: PageRouter, { sessions }: { sessions: SessionStore }): void {
  app.post('/logout', async (c) => {
    await verifiedForm(c);
    const id = getCookie(c, SESSION_COOKIE);
    if (id !== undefined) sessions.destroy(id);
    clearSessionCookie(c);
    return c.redirect('/login', 303);
  });
}
