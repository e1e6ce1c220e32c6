import { afterEach, describe, expect, it } from 'vitest';
import { addHost, changeHost, PROMOTION, seedFleet, serverFacts, T0 } from '../../../testing/drift-fleet.js';
import { createTestApi, type TestApi } from '../../../testing/test-api.js';
import { requestPage, textOf } from '../../../testing/test-dashboard.js';
import { ageText } from './promotion-tables.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let api: TestApi;
afterEach(async () => {
  await api.aggregator.stop();
});

/** The standard fleet; staging moves to openssl 3.0.14 (waiting), production hotfixes curl (out of order). */
async function promotedFleet(): Promise<void> {
  api = createTestApi({ promotion: PROMOTION });
  await seedFleet(api.aggregator.store);
  for (const id of ['stg-1', 'stg-2'])
    await changeHost(api.aggregator.store, id, T0 + HOUR, { 'library.openssl': '3.0.14' });
  await changeHost(api.aggregator.store, 'prod-1', T0 + 2 * HOUR, { 'library.dpkg.curl': '7.88.1-10+deb12u6' });
  api.clock.now = T0 + 3 * DAY;
}

/** The visible rows of the table labelled `label`. */
function rows(html: string, label: string): string[] {
  const start = html.indexOf(`aria-label="${label}"`);
  if (start === -1) return [];
  const table = html.slice(start, html.indexOf('</table>', start));
  return [...table.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => textOf(m[1] ?? '')).slice(1);
}

describe('GET /promotion', () => {
  it('shows each adjacent pair with its waiting and out-of-order tables inside a live region', async () => {
    await promotedFleet();
    const res = await requestPage(api, '/promotion');
    expect(res.status).toBe(200);
    expect(res.html).toContain('<title>Promotion · envparity</title>');
    expect(res.html).toContain('aria-current="page">Promotion</a>');
    expect(res.html).toMatch(/<div id="promotion-pairs" data-live="">[\s\S]*staging → production/);
    const text = textOf(res.html);
    expect(text).toContain('dev → staging');
    expect(text).toContain('1 waiting 1 out of order · oldest waiting 3 days');
    expect(rows(res.html, 'waiting staging to production')).toEqual([
      'library.openssl 3.0.14 was 3.0.13 3.0.11 0 of 3 production hosts 2 of 2 staging hosts 2025-01-01T13:00:00Z majority 2025-01-01T13:00:00Z 3 days promote',
    ]);
    expect(rows(res.html, 'out of order staging to production')).toEqual([
      'library.dpkg.curl 7.88.1-10+deb12u6 was 7.88.1-10+deb12u5 7.88.1-10+deb12u5 1 of 3 production hosts 0 of 2 staging hosts 2025-01-01T14:00:00Z 3 days apply to upstream',
    ]);
    expect(res.html).toContain('href="/facts?path=library.openssl"');
    expect(res.html).toContain('href="/compare?from=staging&amp;to=production"');
    // dev → staging: nothing waits (dev started with 3.0.14 and staging has it now).
    expect(rows(res.html, 'waiting dev to staging')).toEqual([]);
    expect(text).toContain('Nothing waits: every change dev got is in staging’s baseline too.');
  });

  it('has a GET pair picker in promotion order that narrows to one pair, and works without script', async () => {
    await promotedFleet();
    const all = await requestPage(api, '/promotion');
    expect(all.html).toMatch(/<form class="filters" method="get" action="\/promotion" aria-label="pair">/);
    expect(all.html).toMatch(
      /<select name="from"><option value="" selected="">\(adjacent pairs\)<\/option><option value="dev">dev<\/option><option value="staging">staging<\/option><option value="production">production<\/option>/,
    );
    const one = await requestPage(api, '/promotion?from=dev&to=production');
    expect(one.status).toBe(200);
    expect(one.html).toContain('<title>dev → production · Promotion · envparity</title>');
    expect(one.html).toMatch(/<select name="from">[\s\S]*?<option value="dev" selected="">dev<\/option>/);
    expect(one.html).toMatch(/<select name="to">[\s\S]*?<option value="production" selected="">production<\/option>/);
    const text = textOf(one.html);
    expect(text).toContain('dev → production');
    expect(text).not.toContain('staging → production');
    expect(one.html).toContain('href="/promotion">every adjacent pair</a>');
    // An empty form (both "adjacent pairs") is the default view.
    expect((await requestPage(api, '/promotion?from=&to=')).status).toBe(200);
  });

  it('answers the live script with the content only', async () => {
    await promotedFleet();
    const res = await requestPage(api, '/promotion', { headers: { 'x-envparity-live': '1' } });
    expect(res.status).toBe(200);
    expect(res.html).not.toContain('<html');
    expect(res.html).toContain('id="promotion-pairs"');
  });

  it('refuses one side only (400, naming it, with the picker), an unknown environment (404) and the same twice (400)', async () => {
    await promotedFleet();
    const one = await requestPage(api, '/promotion?from=staging');
    expect(one.status).toBe(400);
    expect(textOf(one.html)).toContain('query parameter `to` is required with `from`');
    expect(one.html).toContain('action="/promotion"');
    const unknown = await requestPage(api, '/promotion?from=staging&to=prod');
    expect(unknown.status).toBe(404);
    expect(textOf(unknown.html)).toContain('unknown environment "prod"');
    const same = await requestPage(api, '/promotion?from=staging&to=staging');
    expect(same.status).toBe(400);
    expect(textOf(same.html)).toContain('`to`');
  });

  it('says when a side of a pair has no reporting hosts yet', async () => {
    api = createTestApi({ promotion: PROMOTION });
    await addHost(api.aggregator.store, 'stg-1', 'staging', serverFacts('stg-1'));
    const text = textOf((await requestPage(api, '/promotion')).html);
    expect(text).toContain(
      'production has no reporting hosts yet: nothing can be tracked between staging and production',
    );
  });

  it('without a promotion order says so', async () => {
    api = createTestApi();
    await addHost(api.aggregator.store, 'a-1', 'alpha', serverFacts('a-1'));
    const res = await requestPage(api, '/promotion');
    expect(res.status).toBe(200);
    expect(textOf(res.html)).toContain('promotion order is not configured');
    expect(res.html).toContain('(pick one)');
  });

  it('needs a signed-in viewer', async () => {
    await promotedFleet();
    const res = await requestPage(api, '/promotion', { token: null });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toContain('/login');
  });
});

describe('overview: changes waiting for promotion', () => {
  it('shows "N changes waiting, oldest X" linking to /promotion', async () => {
    await promotedFleet();
    await changeHost(api.aggregator.store, 'dev-1', T0 + DAY, { 'library.glibc': '2.37' });
    const { html } = await requestPage(api, '/');
    expect(textOf(html)).toContain(
      'Promotion 2 changes waiting, oldest 3 days (dev → staging: 1, staging → production: 1)',
    );
    expect(html).toContain('<a href="/promotion" title="dev → staging: 1, staging → production: 1">');
    // Nothing waiting: still shown, as 0.
    for (const id of ['stg-1', 'stg-2', 'prod-1', 'prod-2', 'prod-3']) {
      await changeHost(api.aggregator.store, id, T0 + 2 * DAY, {
        'library.openssl': '3.0.14',
        'library.glibc': '2.37',
      });
    }
    expect(textOf((await requestPage(api, '/')).html)).toContain('Promotion 0 changes waiting (dev → staging: 0');
  });

  it('is absent without a promotion order', async () => {
    api = createTestApi();
    await addHost(api.aggregator.store, 'a-1', 'alpha', serverFacts('a-1'));
    const res = await requestPage(api, '/');
    expect(res.status).toBe(200);
    expect(res.html).not.toContain('href="/promotion" title');
    expect(textOf(res.html)).not.toContain('changes waiting');
  });
});

describe('ageText', () => {
  it('says seconds, minutes, hours, then days', () => {
    expect([ageText(5), ageText(130), ageText(7300), ageText(86_400), ageText(3 * 86_400 + 5)]).toEqual([
      '5 s',
      '2 min',
      '2 h',
      '1 day',
      '3 days',
    ]);
  });
});
