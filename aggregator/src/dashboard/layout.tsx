/**
 * The frame of every dashboard page: head (title, stylesheet, live script), the navigation, who is
 * signed in and the sign-out form. Live regions (`<Live id>`) are what the live script refreshes;
 * a live request (`X-Envparity-Live: 1`) gets only those, not the whole page.
 */
import type { Child, FC, PropsWithChildren } from 'hono/jsx';
import type { ApiPrincipal } from '../http/api-auth.js';
import { LIVE_SCRIPT_ASSET, STYLESHEET_ASSET } from './assets.js';

export type NavSection =
  | 'overview'
  | 'compare'
  | 'environments'
  | 'hosts'
  | 'drift'
  | 'promotion'
  | 'audit'
  | 'exceptions'
  | 'facts';

const NAV: readonly { section: NavSection; href: string; label: string }[] = [
  { section: 'overview', href: '/', label: 'Overview' },
  { section: 'compare', href: '/compare', label: 'Compare' },
  { section: 'hosts', href: '/hosts', label: 'Hosts' },
  { section: 'drift', href: '/drift', label: 'Drift' },
  { section: 'promotion', href: '/promotion', label: 'Promotion' },
  { section: 'audit', href: '/audit', label: 'Audit' },
  { section: 'exceptions', href: '/exceptions', label: 'Exceptions' },
  { section: 'facts', href: '/facts', label: 'Facts' },
];

export interface Viewer {
  principal: ApiPrincipal;
  /** The session's CSRF token, for forms; undefined for bearer-token requests (no forms needed). */
  csrfToken: string | undefined;
}

export const Layout: FC<PropsWithChildren<{ title: string; section?: NavSection; viewer?: Viewer }>> = ({
  title,
  section,
  viewer,
  children,
}) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{`${title} · envparity`}</title>
      <link rel="stylesheet" href={STYLESHEET_ASSET.path} />
      <script src={LIVE_SCRIPT_ASSET.path} defer />
    </head>
    <body>
      <header class="top">
        <a class="brand" href="/">
          envparity
        </a>
        {viewer && (
          <nav aria-label="main">
            {NAV.map((item) => (
              <a href={item.href} aria-current={item.section === section ? 'page' : undefined}>
                {item.label}
              </a>
            ))}
          </nav>
        )}
        {viewer && (
          <span class="who">
            <span>
              {viewer.principal.name} ({viewer.principal.scope})
            </span>
            {viewer.csrfToken !== undefined && (
              <form class="inline" method="post" action="/logout">
                <CsrfField viewer={viewer} />
                <button type="submit">Sign out</button>
              </form>
            )}
          </span>
        )}
      </header>
      <main>{children}</main>
    </body>
  </html>
);

export const CsrfField: FC<{ viewer: Viewer }> = ({ viewer }) =>
  viewer.csrfToken === undefined ? null : <input type="hidden" name="_csrf" value={viewer.csrfToken} />;

/** A region the live script keeps fresh (its id must be unique on the page). */
export const Live: FC<PropsWithChildren<{ id: string }>> = ({ id, children }) => (
  <div id={id} data-live="">
    {children}
  </div>
);

/** A table that scrolls sideways inside itself on narrow screens, never the page. */
export const Wide: FC<PropsWithChildren> = ({ children }) => <div class="table-wrap">{children}</div>;

export const Notice: FC<PropsWithChildren<{ kind?: 'info' | 'error' }>> = ({ kind = 'info', children }) => (
  <p class={kind === 'error' ? 'notice error' : 'notice'} role={kind === 'error' ? 'alert' : 'status'}>
    {children}
  </p>
);

export type { Child };
