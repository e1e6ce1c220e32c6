import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROMOTION, seedFleet, T0 } from '../../../testing/drift-fleet.js';
import { ADMIN_TOKEN, createTestApi, type TestApi } from '../../../testing/test-api.js';
import { requestPage, signIn, textOf } from '../../../testing/test-dashboard.js';
import { EXCEPTIONS_PAGE_SIZE } from './exceptions-page.js';

const DAY = 24 * 60 * 60 * 1000;
const FILE_SOURCE = 'file:/etc/envparity/exceptions.yaml';

let api: TestApi;
beforeEach(async () => {
  api = createTestApi({ promotion: PROMOTION });
  await seedFleet(api.aggregator.store);
  await api.aggregator.drift.settle();
});
afterEach(async () => {
  await api.aggregator.stop();
});

async function createException(body: Record<string, unknown>): Promise<string> {
  const created = await api.request('POST', '/api/v1/exceptions', {
    body: { environments: ['staging', 'production'], reason: 'intended', ...body },
  });
  expect(created.status).toBe(201);
  return created.body.id;
}

/** An active (no expiry), an expiring (3 days), an expired (yesterday) and a file exception. */
async function seedExceptions(): Promise<{ active: string; expiring: string; expired: string }> {
  const active = await createException({
    path: 'library.openssl',
    reason: 'FIPS build in production',
    impact: 'none for users',
    owner: 'platform-team',
  });
  const expiring = await createException({
    path: 'hardware.cpu.*',
    reason: 'production is bigger',
    expiresAt: new Date(T0 + 10 * DAY).toISOString(),
  });
  const expired = await createException({
    path: 'config.env.LOG_LEVEL',
    environments: ['production'],
    reason: 'debugging prod-3',
    expiresAt: new Date(T0 + 2 * DAY).toISOString(),
  });
  await api.aggregator.commands.replaceFileExceptions(FILE_SOURCE, [
    {
      id: 'tz',
      path: 'os.timezone',
      environments: ['dev', 'staging'],
      reason: 'dev runs in local time',
      expiresAt: null,
      createdAt: T0,
    },
  ]);
  api.clock.now = T0 + 7 * DAY; // the 3rd now expires within a week; the 4th has expired
  await api.aggregator.drift.settle();
  return { active, expiring, expired };
}

/** The visible text of each row of a section. */
function sectionRows(html: string, status: string): string[] {
  const section = new RegExp(`<section id="exceptions-${status}">([\\s\\S]*?)</section>`).exec(html)?.[1] ?? '';
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(section)?.[1] ?? '';
  return [...body.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((match) => textOf(match[1] ?? ''));
}

async function readToken(): Promise<string> {
  const created = await api.request('POST', '/api/v1/tokens', { body: { name: 'viewer', scope: 'read' } });
  return created.body.token;
}

describe('GET /exceptions', () => {
  it('shows active, expiring and expired sections with every field', async () => {
    const ids = await seedExceptions();
    const page = await requestPage(api, '/exceptions');
    expect(page.status).toBe(200);
    expect(page.html).toContain('<title>Exceptions · envparity</title>');
    expect(page.html).toContain('id="exceptions-board" data-live');
    const active = sectionRows(page.html, 'active');
    expect(active).toEqual([
      'library.openssl staging , production FIPS build in production none for users platform-team bootstrap admin token 7 d ago never api active Delete',
      'os.timezone dev , staging dev runs in local time — — — 7 d ago never file:/etc/envparity/exceptions.yaml active change in the file',
    ]);
    expect(sectionRows(page.html, 'expiring')).toEqual([
      'hardware.cpu.* staging , production production is bigger — — bootstrap admin token 7 d ago in 3 d 2025-01-11T12:00:00Z api expiring Delete',
    ]);
    expect(sectionRows(page.html, 'expired')).toEqual([
      'config.env.LOG_LEVEL production debugging prod-3 — — bootstrap admin token 7 d ago 5 d ago 2025-01-03T12:00:00Z api expired Delete',
    ]);
    expect(page.html).toContain('<td class="path">hardware.cpu.*</td>');
    expect(page.html).toContain(`<tr id="exception-${ids.expired}">`);
    expect(page.html).toContain('<a href="/compare">create one from a compare</a>');
  });

  it('shows one section with `show`, as the overview links to', async () => {
    await seedExceptions();
    const overview = await requestPage(api, '/');
    expect(overview.html).toContain('href="/exceptions?show=expiring"');
    const expiring = await requestPage(api, '/exceptions?show=expiring');
    expect(expiring.html).toContain('<title>Exceptions · expiring · envparity</title>');
    expect(sectionRows(expiring.html, 'expiring')).toHaveLength(1);
    expect(expiring.html).not.toContain('id="exceptions-active"');
    expect(expiring.html).not.toContain('id="exceptions-expired"');
    const expired = await requestPage(api, '/exceptions?show=expired');
    expect(sectionRows(expired.html, 'expired')).toEqual([expect.stringContaining('config.env.LOG_LEVEL')]);
    expect(expired.html).toContain('<strong>expired (1)</strong>');

    const bad = await requestPage(api, '/exceptions?show=soon');
    expect(bad.status).toBe(400);
    expect(textOf(bad.html)).toContain('`show` must be one of all, active, expiring, expired');
    expect((await requestPage(api, '/exceptions?show=active&page=0')).status).toBe(400);
  });

  it('pages a long section 50 at a time, and previews it in show=all', async () => {
    for (let i = 0; i < 60; i++) await createException({ path: `library.pip.pkg${String(i).padStart(2, '0')}` });
    const all = await requestPage(api, '/exceptions');
    expect(sectionRows(all.html, 'active')).toHaveLength(EXCEPTIONS_PAGE_SIZE);
    expect(all.html).toContain('<a href="/exceptions?show=active">All 60 active exceptions »</a>');
    const first = await requestPage(api, '/exceptions?show=active');
    expect(sectionRows(first.html, 'active')[0]).toMatch(/^library\.pip\.pkg00 /);
    expect(first.html).toContain('<a href="/exceptions?show=active&amp;page=2">Next »</a>');
    const second = await requestPage(api, '/exceptions?show=active&page=2');
    const rows = sectionRows(second.html, 'active');
    expect(rows).toHaveLength(10);
    expect(rows[0]).toMatch(/^library\.pip\.pkg50 /);
    expect(second.html).toContain('<a href="/exceptions?show=active&amp;page=1">« Previous</a>');
    expect(second.html).not.toContain('Next »');
  });

  it('renders with no exceptions and an empty fleet', async () => {
    await api.aggregator.stop();
    api = createTestApi();
    const page = await requestPage(api, '/exceptions');
    expect(page.status).toBe(200);
    const text = textOf(page.html);
    expect(text).toContain('No active exception');
    expect(text).toContain('Nothing expires within 7 days.');
    expect(text).toContain('No expired exception.');
  });
});

describe('POST /exceptions/:id/delete', () => {
  it('deletes an API exception for a signed-in admin, records it and goes back keeping `show`', async () => {
    const { expiring } = await seedExceptions();
    const { cookie, csrf } = await signIn(api, ADMIN_TOKEN);
    const page = await requestPage(api, '/exceptions?show=expiring', { token: null, cookie });
    expect(page.html).toContain(`action="/exceptions/${expiring}/delete"`);
    expect(page.html).toContain(`name="_csrf" value="${csrf}"`);

    const deleted = await requestPage(api, `/exceptions/${expiring}/delete`, {
      token: null,
      cookie,
      form: { _csrf: csrf, show: 'expiring' },
    });
    expect(deleted.status).toBe(303);
    expect(deleted.headers.get('location')).toBe(`/exceptions?show=expiring&deleted=${expiring}`);
    const listed = await api.get('/api/v1/exceptions');
    expect(listed.body.exceptions.map((e: { id: string }) => e.id)).not.toContain(expiring);
    const audit = await api.get('/api/v1/audit-log');
    expect(audit.body.entries[0]).toMatchObject({
      action: 'exception.deleted',
      actor: 'bootstrap',
      details: { id: expiring, path: 'hardware.cpu.*', environments: ['staging', 'production'] },
    });
    const after = await requestPage(api, `/exceptions?show=expiring&deleted=${expiring}`, { token: null, cookie });
    expect(textOf(after.html)).toContain(`Exception ${expiring} was deleted`);
    expect(textOf(after.html)).toContain('Nothing expires within 7 days.');
  });

  it('announces a deletion only when the audit log records it (a crafted link shows nothing)', async () => {
    const { active } = await seedExceptions();
    for (const id of [active, 'exc-never-existed']) {
      const crafted = await requestPage(api, `/exceptions?deleted=${id}`);
      expect(crafted.status).toBe(200);
      expect(textOf(crafted.html)).not.toContain('was deleted');
    }
  });

  it('refuses a session post without its CSRF token', async () => {
    const { active } = await seedExceptions();
    const { cookie } = await signIn(api, ADMIN_TOKEN);
    const refused = await requestPage(api, `/exceptions/${active}/delete`, {
      token: null,
      cookie,
      form: { _csrf: 'forged' },
    });
    expect(refused.status).toBe(403);
    expect(textOf(refused.html)).toContain('CSRF');
    expect((await api.get('/api/v1/exceptions')).body.exceptions).toHaveLength(4);
  });

  it('shows a read viewer no delete button and refuses its post', async () => {
    const { active } = await seedExceptions();
    const token = await readToken();
    const page = await requestPage(api, '/exceptions', { token });
    expect(page.status).toBe(200);
    expect(page.html).not.toContain('/delete"');
    expect(textOf(page.html)).not.toContain('Delete');
    expect(textOf(page.html)).not.toContain('change in the file');

    const { cookie, csrf } = await signIn(api, token);
    const refused = await requestPage(api, `/exceptions/${active}/delete`, {
      token: null,
      cookie,
      form: { _csrf: csrf },
    });
    expect(refused.status).toBe(403);
    expect(textOf(refused.html)).toContain('admin scope');
    const bearer = await requestPage(api, `/exceptions/${active}/delete`, { token, form: {} });
    expect(bearer.status).toBe(403);
    expect((await api.get('/api/v1/exceptions')).body.exceptions).toHaveLength(4);
  });

  it('refuses a file exception (409) and an unknown id (404)', async () => {
    await seedExceptions();
    const file = await requestPage(api, '/exceptions/tz/delete', { form: {} });
    expect(file.status).toBe(409);
    expect(textOf(file.html)).toContain('comes from the exceptions file');
    const unknown = await requestPage(api, '/exceptions/nope/delete', { form: {} });
    expect(unknown.status).toBe(404);
    expect(textOf(unknown.html)).toContain('unknown exception "nope"');
  });
});
