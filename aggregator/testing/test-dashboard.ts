/**
 * Page-test helper: requests dashboard pages of a test aggregator (createTestApi) as a browser
 * would, with a bearer token, or with a session cookie and form posts. Answers are HTML text.
 */
import type { TestApi } from './test-api.js';
import { ADMIN_TOKEN } from './test-api.js';

export interface PageResponse {
  status: number;
  html: string;
  headers: Headers;
}

export interface PageRequest {
  /** Bearer token (default: the admin token); null for none (then `cookie` may sign in). */
  token?: string | null;
  /** `envparity_session=...` from a sign-in. */
  cookie?: string;
  /** A form post (urlencoded). */
  form?: Record<string, string>;
  headers?: Record<string, string>;
}

export async function requestPage(api: TestApi, path: string, request: PageRequest = {}): Promise<PageResponse> {
  const { token = ADMIN_TOKEN, cookie, form } = request;
  const headers: Record<string, string> = { ...request.headers };
  if (token) headers.authorization = `Bearer ${token}`;
  if (cookie) headers.cookie = cookie;
  if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
  const res = await api.aggregator.app.request(path, {
    method: form ? 'POST' : 'GET',
    headers,
    ...(form ? { body: new URLSearchParams(form).toString() } : {}),
  });
  return { status: res.status, html: await res.text(), headers: res.headers };
}

/** Signs in with a token through the /login form; resolves with the session cookie and a CSRF token from a page. */
export async function signIn(api: TestApi, token: string): Promise<{ cookie: string; csrf: string }> {
  const res = await requestPage(api, '/login', { token: null, form: { token, next: '/' } });
  if (res.status !== 303) throw new Error(`sign-in answered ${res.status}: ${res.html.slice(0, 500)}`);
  const setCookie = res.headers.get('set-cookie') ?? '';
  const cookie = setCookie.split(';')[0] ?? '';
  const page = await requestPage(api, '/', { token: null, cookie });
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.html)?.[1];
  if (!csrf) throw new Error('no CSRF token on the overview page');
  return { cookie, csrf };
}

/** The visible text of an HTML fragment (tags dropped, entities of the escaper decoded), for assertions. */
export function textOf(html: string): string {
  return html
    .replace(/<script[\s\S]*?<\/script>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}
