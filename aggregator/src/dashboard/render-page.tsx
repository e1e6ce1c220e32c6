/**
 * Answers a page: the whole document, or for the live script (`X-Envparity-Live: 1`) only the
 * content without the frame, which is all the script reads its live regions from.
 */
import type { Context } from 'hono';
import { html } from 'hono/html';
import type { Child } from 'hono/jsx';
import type { DashboardEnv } from './dashboard-env.js';
import { Layout, type NavSection } from './layout.js';

export interface PageSpec {
  title: string;
  section?: NavSection;
  body: Child;
  status?: 200 | 400 | 401 | 403 | 404 | 409 | 500;
}

export function isLiveRequest(c: Context): boolean {
  return c.req.header('x-envparity-live') !== undefined;
}

export function renderPage(
  c: Context<DashboardEnv>,
  { title, section, body, status = 200 }: PageSpec,
): Response | Promise<Response> {
  if (isLiveRequest(c)) return c.html(<div>{body}</div>, status);
  const page = (
    <Layout title={title} section={section} viewer={c.get('viewer')}>
      {body}
    </Layout>
  );
  return c.html(html`<!doctype html>${page}`, status);
}
