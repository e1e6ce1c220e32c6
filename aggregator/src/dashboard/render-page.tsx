/**
 * Answers a page: the whole document, or for the live script (`X-Envparity-Live: 1`) only the
 * content without the frame, which is all the script reads its live regions from. A live answer
 * carries an ETag of that content: when nothing changed since the script's last poll it gets a
 * bodiless 304 and leaves the page alone (no parse, no region swap, open menus stay as they are).
 */
import { createHash } from 'node:crypto';
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
  if (isLiveRequest(c)) return renderLive(c, <div>{body}</div>, status);
  const page = (
    <Layout title={title} section={section} viewer={c.get('viewer')}>
      {body}
    </Layout>
  );
  return c.html(html`<!doctype html>${page}`, status);
}

async function renderLive(c: Context<DashboardEnv>, content: Child, status: NonNullable<PageSpec['status']>) {
  const text = String(await (content as { toString(): string | Promise<string> }).toString());
  const etag = `"${createHash('sha256').update(text).digest('base64url').slice(0, 22)}"`;
  c.header('ETag', etag);
  if (status === 200 && c.req.header('if-none-match') === etag) return c.body(null, 304);
  return c.html(text, status);
}
