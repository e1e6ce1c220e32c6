import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { seedFleet } from '../../testing/drift-fleet.js';
import { ADMIN_TOKEN, createTestApi, type TestApi } from '../../testing/test-api.js';
import { requestPage, signIn, textOf } from '../../testing/test-dashboard.js';
import { MAX_CODES_PER_PRINCIPAL, MAX_SESSIONS_PER_PRINCIPAL, SESSION_TTL_MS, SessionStore } from './sessions.js';

let api: TestApi;
beforeEach(async () => {
  api = createTestApi();
  await seedFleet(api.aggregator.store);
});
afterEach(async () => {
  await api.aggregator.stop();
});

async function readToken(): Promise<{ token: string; id: string }> {
  const { body } = await api.request('POST', '/api/v1/tokens', { body: { name: 'viewer', scope: 'read' } });
  return { token: body.token, id: body.id };
}

describe('dashboard sign-in', () => {
  it('sends a visitor without a session or token to /login, keeping where they were going', async () => {
    const home = await requestPage(api, '/', { token: null });
    expect(home.status).toBe(303);
    expect(home.headers.get('location')).toBe('/login');
    const hosts = await requestPage(api, '/hosts?env=staging', { token: null });
    expect(hosts.headers.get('location')).toBe(`/login?next=${encodeURIComponent('/hosts?env=staging')}`);
    const login = await requestPage(api, '/login?next=%2Fhosts', { token: null });
    expect(login.status).toBe(200);
    expect(login.html).toContain('<title>Sign in · envparity</title>');
    expect(login.html).toContain('name="token"');
    expect(login.html).toContain('value="/hosts"');
    // A live refresh of a page whose session ended gets a 401, not the login page to paste in.
    expect((await requestPage(api, '/', { token: null, headers: { 'x-envparity-live': '1' } })).status).toBe(401);
  });

  it('exchanges a pasted token for an HttpOnly SameSite=Strict session cookie that is not the token', async () => {
    const { token } = await readToken();
    const bad = await requestPage(api, '/login', { token: null, form: { token: 'nope', next: '/' } });
    expect(bad.status).toBe(401);
    expect(textOf(bad.html)).toContain('Unknown or revoked token.');
    expect(bad.headers.get('set-cookie')).toBeNull();

    const res = await requestPage(api, '/login', { token: null, form: { token, next: '/hosts' } });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/hosts');
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^envparity_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Path=/');
    expect(cookie).toContain(`Max-Age=${SESSION_TTL_MS / 1000}`);
    expect(cookie).not.toContain(token);

    const page = await requestPage(api, '/', { token: null, cookie: cookie.split(';')[0] });
    expect(page.status).toBe(200);
    expect(textOf(page.html)).toContain('viewer (read)');
    expect(page.html).not.toContain(token);
  });

  it('never redirects off this server after sign-in', async () => {
    for (const next of [
      '//evil.example/x',
      'https://evil.example/',
      '/\\evil.example',
      '/\t/evil.example',
      '/\n/x',
      '/x\r\nSet-Cookie: a=b',
    ]) {
      const res = await requestPage(api, '/login', { token: null, form: { token: ADMIN_TOKEN, next } });
      expect(res.headers.get('location')).toBe('/');
    }
  });

  it('signs out only with the CSRF token, and the session is gone afterwards', async () => {
    const { cookie, csrf } = await signIn(api, ADMIN_TOKEN);
    const forged = await requestPage(api, '/logout', { token: null, cookie, form: {} });
    expect(forged.status).toBe(403);
    expect(textOf(forged.html)).toContain('CSRF');
    const crossSite = await requestPage(api, '/logout', {
      token: null,
      cookie,
      form: { _csrf: csrf },
      headers: { origin: 'https://evil.example' },
    });
    expect(crossSite.status).toBe(403);
    expect((await requestPage(api, '/', { token: null, cookie })).status).toBe(200);

    const out = await requestPage(api, '/logout', { token: null, cookie, form: { _csrf: csrf } });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/login');
    expect((await requestPage(api, '/', { token: null, cookie })).status).toBe(303);
  });

  it('works behind a TLS-terminating reverse proxy: its Origin, its Basic auth, a Secure cookie', async () => {
    const proxied = { 'x-forwarded-host': 'parity.example.com', 'x-forwarded-proto': 'https' };
    const res = await requestPage(api, '/login', {
      token: null,
      form: { token: ADMIN_TOKEN, next: '/' },
      headers: proxied,
    });
    expect(res.headers.get('set-cookie')).toContain('Secure');
    const direct = await requestPage(api, '/login', { token: null, form: { token: ADMIN_TOKEN, next: '/' } });
    expect(direct.headers.get('set-cookie')).not.toContain('Secure');

    const { cookie, csrf } = await signIn(api, ADMIN_TOKEN);
    // The proxy's own login (`Basic`) is not a bearer token: the session cookie still counts.
    const basic = { authorization: `Basic ${Buffer.from('ops:proxy-password').toString('base64')}` };
    const page = await requestPage(api, '/', { token: null, cookie, headers: basic });
    expect(page.status).toBe(200);
    expect(textOf(page.html)).toContain('bootstrap admin token (admin)');
    // Another site posting through the same proxy is still refused; the proxied origin is not.
    const crossSite = await requestPage(api, '/logout', {
      token: null,
      cookie,
      form: { _csrf: csrf },
      headers: { ...proxied, ...basic, origin: 'https://evil.example' },
    });
    expect(crossSite.status).toBe(403);
    const out = await requestPage(api, '/logout', {
      token: null,
      cookie,
      form: { _csrf: csrf },
      headers: { ...proxied, ...basic, origin: 'https://parity.example.com' },
    });
    expect(out.status).toBe(303);
    expect((await requestPage(api, '/', { token: null, cookie })).status).toBe(303);
  });

  it('ends the sessions of a token when it is revoked', async () => {
    const { token, id } = await readToken();
    const { cookie } = await signIn(api, token);
    expect((await requestPage(api, '/', { token: null, cookie })).status).toBe(200);
    expect((await api.request('DELETE', `/api/v1/tokens/${id}`)).status).toBe(200);
    expect((await requestPage(api, '/', { token: null, cookie })).status).toBe(303);
  });

  it('signs in once with a one-time code minted through the API, without the token in the link', async () => {
    const minted = await api.request('POST', '/api/v1/sign-in-codes');
    expect(minted.status).toBe(201);
    expect(minted.body.path).toBe(`/login?code=${minted.body.code}`);
    expect(minted.body.path).not.toContain(ADMIN_TOKEN);
    // Opening the link (a link scanner, a chat preview) neither uses the code nor signs anyone in.
    for (let i = 0; i < 2; i++) {
      const opened = await requestPage(api, minted.body.path, { token: null });
      expect(opened.status).toBe(200);
      expect(opened.headers.get('set-cookie')).toBeNull();
      expect(opened.html).toContain(`name="code" value="${minted.body.code}"`);
    }
    const used = await requestPage(api, '/login', { token: null, form: { code: minted.body.code, next: '/hosts' } });
    expect(used.status).toBe(303);
    expect(used.headers.get('location')).toBe('/hosts');
    const cookie = (used.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const page = await requestPage(api, '/', { token: null, cookie });
    expect(textOf(page.html)).toContain('bootstrap admin token (admin)');
    const again = await requestPage(api, '/login', { token: null, form: { code: minted.body.code, next: '/' } });
    expect(again.status).toBe(401);
    expect(again.headers.get('set-cookie')).toBeNull();
    expect((await requestPage(api, minted.body.path, { token: null })).status).toBe(401);
    expect((await api.request('POST', '/api/v1/sign-in-codes', { token: null })).status).toBe(401);
  });

  it('accepts a bearer token on pages (scripts, tests) and refuses a bad one', async () => {
    expect((await requestPage(api, '/')).status).toBe(200);
    const bad = await requestPage(api, '/', { token: 'wrong' });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('content-type')).toContain('text/html');
  });

  it('serves pages with a strict CSP and no-store, and leaves the JSON API as it was', async () => {
    const page = await requestPage(api, '/');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('content-security-policy')).toContain("form-action 'self'");
    expect(page.headers.get('cache-control')).toBe('no-store');
    // Browsers send `Origin: null` on form posts under `no-referrer`; the CSRF check needs the real origin.
    expect(page.headers.get('referrer-policy')).toBe('same-origin');
    const asset = /href="(\/assets\/dashboard\.[0-9a-f]{12}\.css)"/.exec(page.html)?.[1] ?? '';
    const css = await requestPage(api, asset, { token: null });
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toContain('text/css');
    expect(css.headers.get('cache-control')).toContain('immutable');
    expect(css.html).toContain('prefers-color-scheme: dark');
    const missing = await requestPage(api, '/no-such-page', { headers: { accept: 'text/html' } });
    expect(missing.status).toBe(404);
    expect(textOf(missing.html)).toContain('There is no page at /no-such-page.');
    const missingApi = await api.request('GET', '/api/v1/no-such-route');
    expect(missingApi.body.error.code).toBe('NOT_FOUND');
    const json = await api.request('GET', '/api/v1/hosts', { token: null });
    expect(json.status).toBe(401);
    expect(json.body.error.code).toBe('UNAUTHORIZED');
  });
});

describe('SessionStore', () => {
  it('expires sessions and codes, and keeps only hashes of their ids', () => {
    const clock = { now: 1_000 };
    const store = new SessionStore(() => clock.now);
    const principal = { id: 'p', name: 'p', scope: 'read' as const };
    const { id } = store.create(principal, undefined);
    const { code } = store.mintCode(principal, undefined);
    expect(store.get(id)?.principal).toEqual(principal);
    expect(JSON.stringify([...Object.values(store)])).not.toContain(id);
    clock.now += SESSION_TTL_MS;
    expect(store.get(id)).toBeUndefined();
    expect(store.redeemCode(code)).toBeUndefined();
  });

  it('caps sessions and codes per principal: one token signing in in a loop cycles only its own', () => {
    const store = new SessionStore(() => 1_000);
    const alice = { id: 'alice', name: 'alice', scope: 'read' as const };
    const bob = { id: 'bob', name: 'bob', scope: 'read' as const };
    const bobSession = store.create(bob, undefined).id;
    const aliceFirst = store.create(alice, undefined).id;
    for (let i = 0; i < MAX_SESSIONS_PER_PRINCIPAL + 50; i++) store.create(alice, undefined);
    expect(store.size).toBe(MAX_SESSIONS_PER_PRINCIPAL + 1);
    expect(store.get(aliceFirst)).toBeUndefined();
    expect(store.get(bobSession)?.principal).toEqual(bob);

    const bobCode = store.mintCode(bob, undefined).code;
    const aliceCodes = Array.from({ length: MAX_CODES_PER_PRINCIPAL + 5 }, () => store.mintCode(alice, undefined).code);
    expect(store.hasCode(bobCode)).toBe(true);
    expect(aliceCodes.filter((code) => store.hasCode(code))).toHaveLength(MAX_CODES_PER_PRINCIPAL);
    expect(store.hasCode(aliceCodes[0] ?? '')).toBe(false);
    expect(store.hasCode(aliceCodes.at(-1) ?? '')).toBe(true);
  });
});
