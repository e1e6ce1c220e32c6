import { afterEach, describe, expect, it } from 'vitest';
import { changeHost, PROMOTION, seedFleet, T0 } from '../../../testing/drift-fleet.js';
import { createTestApi, type TestApi } from '../../../testing/test-api.js';
import { requestPage, textOf } from '../../../testing/test-dashboard.js';
import { DRIFT_PAGE_SIZE } from './drift-paging.js';

let api: TestApi;
afterEach(async () => {
  await api.aggregator.stop();
});

async function seeded(options: Parameters<typeof createTestApi>[0] = {}): Promise<TestApi> {
  api = createTestApi({ promotion: PROMOTION, ...options });
  await seedFleet(api.aggregator.store);
  await api.aggregator.drift.settle();
  return api;
}

/** The rows of the drift table, as their visible text. */
function rows(html: string): string[] {
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(html)?.[1] ?? '';
  return [...body.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((match) => textOf(match[1] ?? ''));
}

function nextLink(html: string): string | undefined {
  const href = /<a href="([^"]+)">Older »<\/a>/.exec(html)?.[1];
  return href?.replace(/&amp;/g, '&');
}

/** `count` new environment differences dev → staging, opened in one pass at `at`. */
async function openDevDifferences(count: number, at: number, prefix = 'X'): Promise<void> {
  api.clock.now = at;
  const set: Record<string, string> = {};
  for (let i = 0; i < count; i++) set[`config.env.${prefix}_${String(i).padStart(3, '0')}`] = 'on';
  await changeHost(api.aggregator.store, 'dev-1', at, set);
  await api.aggregator.drift.settle();
}

describe('GET /drift', () => {
  it('lists every event newest first by default, with its title, filter form and live region', async () => {
    await seeded();
    const page = await requestPage(api, '/drift');
    expect(page.status).toBe(200);
    expect(page.html).toContain('<title>Drift · envparity</title>');
    expect(page.html).toMatch(/<form class="filters" method="get" action="\/drift">/);
    // The form sits outside the live region, so a refresh never resets it.
    const live = page.html.indexOf('id="drift-events" data-live');
    expect(live).toBeGreaterThan(page.html.indexOf('</form>'));
    const listed = rows(page.html);
    expect(listed).toHaveLength(4);
    expect(listed.join('\n')).toContain('open outlier production : prod-3 config.env.LOG_LEVEL info warn');
    expect(listed.join('\n')).toContain('open environment staging → production library.openssl 3.0.13 3.0.11');
    expect(page.html).toContain('href="/compare?from=staging&amp;to=production"');
    expect(nextLink(page.html)).toBeUndefined();
  });

  it('filters by status, environment (either side), kind and host, keeping them in the form', async () => {
    await seeded();
    api.clock.now = T0 + 120_000;
    await changeHost(api.aggregator.store, 'prod-3', api.clock.now, { 'config.env.LOG_LEVEL': 'info' });
    await api.aggregator.drift.settle();

    const resolved = await requestPage(api, '/drift?status=resolved');
    expect(rows(resolved.html)).toEqual([
      expect.stringMatching(/^resolved outlier production : prod-3 config.env.LOG_LEVEL info warn .* fixed/),
    ]);
    expect(resolved.html).toContain('<option value="resolved" selected="">resolved</option>');

    const open = await requestPage(api, '/drift?status=open');
    expect(rows(open.html)).toHaveLength(3);
    expect(textOf(open.html)).not.toContain('prod-3');

    const production = await requestPage(api, '/drift?env=production');
    // Both opened at T0: the newer id first.
    expect(rows(production.html).map((row) => row.split(' ').slice(0, 3).join(' '))).toEqual([
      'open environment staging',
      'resolved outlier production',
    ]);
    expect(production.html).toContain('<option value="production" selected="">production</option>');
    expect(production.html).toContain('<title>Drift · production · envparity</title>');

    const environmentKind = await requestPage(api, '/drift?kind=environment&env=dev');
    expect(rows(environmentKind.html)).toHaveLength(2);
    expect(rows(environmentKind.html).every((row) => row.includes('dev → staging'))).toBe(true);

    const host = await requestPage(api, '/drift?host=prod-3&status=');
    expect(rows(host.html)).toHaveLength(1);
    expect(host.html).toContain('name="host" value="prod-3"');

    const none = await requestPage(api, '/drift?host=stg-1&kind=lost');
    expect(textOf(none.html)).toContain('No drift events match these filters.');
  });

  it('answers 404 for an unknown environment or host and 400 naming a bad parameter', async () => {
    await seeded();
    const env = await requestPage(api, '/drift?env=prod');
    expect(env.status).toBe(404);
    expect(textOf(env.html)).toContain('unknown environment "prod"');
    const host = await requestPage(api, '/drift?host=nope');
    expect(host.status).toBe(404);
    expect(textOf(host.html)).toContain('unknown host "nope"');
    for (const [query, name] of [
      ['status=closed', '`status`'],
      ['kind=typo', '`kind`'],
      ['before=yesterday', '`before`'],
    ]) {
      const page = await requestPage(api, `/drift?${query}`);
      expect(page.status, query).toBe(400);
      expect(textOf(page.html)).toContain(name);
    }
  });

  it('pages 50 at a time by cursor, staying right while new events arrive on top', async () => {
    await seeded();
    // 70 events in one pass (same openedAt: the id breaks the tie), after the fleet's 4.
    await openDevDifferences(70, T0 + 60_000);
    const first = await requestPage(api, '/drift?kind=environment');
    const firstRows = rows(first.html);
    expect(firstRows).toHaveLength(DRIFT_PAGE_SIZE);
    const next = nextLink(first.html);
    expect(next).toMatch(/^\/drift\?kind=environment&before=\d+-\d+$/);

    // New events opened meanwhile do not shift the older page.
    await openDevDifferences(5, T0 + 120_000, 'NEW');
    const second = await requestPage(api, next ?? '');
    const secondRows = rows(second.html);
    // 70 + 3 environment events in all: 50 on the first page, 23 older ones here.
    expect(secondRows).toHaveLength(23);
    expect(secondRows.some((row) => firstRows.includes(row))).toBe(false);
    expect(secondRows.some((row) => row.includes('NEW_'))).toBe(false);
    expect(secondRows.at(-1)).toContain('dev → staging');
    expect(nextLink(second.html)).toBeUndefined();
    expect(second.html).toContain('<a href="/drift?kind=environment">« Newest</a>');

    // The newest page shows the new events first.
    const fresh = await requestPage(api, '/drift?kind=environment');
    expect(rows(fresh.html)[0]).toContain('config.env.NEW_');
  });

  it('keeps paging right when open events resolve out of a status=open list', async () => {
    await seeded();
    await openDevDifferences(60, T0 + 60_000);
    const first = await requestPage(api, '/drift?status=open');
    const firstRows = rows(first.html);
    expect(firstRows).toHaveLength(DRIFT_PAGE_SIZE);
    // Staging catches up on the three newest paths: their events resolve (leaving the open list).
    api.clock.now = T0 + 90_000;
    const caughtUp = { 'config.env.X_059': 'on', 'config.env.X_058': 'on', 'config.env.X_057': 'on' };
    for (const id of ['stg-1', 'stg-2']) await changeHost(api.aggregator.store, id, api.clock.now, caughtUp);
    await api.aggregator.drift.settle();
    const second = await requestPage(api, nextLink(first.html) ?? '');
    // 60 + 4 open events: the 14 older than the first page's last are all still here.
    expect(rows(second.html)).toHaveLength(14);
    expect(rows(second.html).some((row) => firstRows.includes(row))).toBe(false);
  });

  it('answers a live request with the regions only, new events included', async () => {
    await seeded();
    const before = await requestPage(api, '/drift?status=open', { headers: { 'X-Envparity-Live': '1' } });
    expect(before.html).not.toContain('<html');
    expect(before.html).toContain('id="drift-events"');
    expect(rows(before.html)).toHaveLength(4);
    await openDevDifferences(1, T0 + 60_000, 'LIVE');
    const after = await requestPage(api, '/drift?status=open', { headers: { 'X-Envparity-Live': '1' } });
    expect(rows(after.html)[0]).toContain('config.env.LIVE_000');
  });

  it('shows emergencies with the upstream they skipped, justified resolutions with their exception', async () => {
    await seeded();
    api.clock.now = T0 + 60_000;
    await changeHost(api.aggregator.store, 'prod-2', api.clock.now, { 'library.openssl': '3.0.16' });
    await api.aggregator.drift.settle();
    const emergency = await requestPage(api, '/drift?host=prod-2');
    expect(rows(emergency.html)[0]).toMatch(
      /^open emergency skipped staging outlier production : prod-2 library.openssl 3.0.11 3.0.16/,
    );

    const created = await api.request('POST', '/api/v1/exceptions', {
      body: { path: 'library.openssl', environments: ['staging', 'production'], reason: 'FIPS build in production' },
    });
    await api.aggregator.drift.settle();
    const justified = await requestPage(api, '/drift?status=resolved&kind=environment');
    expect(rows(justified.html)).toEqual([
      expect.stringContaining('justified by an exception FIPS build in production'),
    ]);
    expect(justified.html).toContain(`href="/exceptions#exception-${created.body.id}"`);
  });

  it('shows a lost host with when it was last seen', async () => {
    await seeded({ presenceTiming: { graceSeconds: 60, retireAfterSeconds: 86_400 } });
    for (const id of ['dev-1', 'stg-1', 'stg-2', 'prod-1', 'prod-2', 'prod-3']) api.presence.set(id, true);
    await api.aggregator.drift.settle();
    api.presence.set('prod-2', false);
    api.clock.now += 61_000;
    await api.aggregator.drift.settle();
    const page = await requestPage(api, '/drift?kind=lost');
    expect(rows(page.html)).toEqual([
      expect.stringMatching(/^open lost production : prod-2 last seen .+ ago \(host offline past the grace\) — —/),
    ]);
  });

  it('renders with an empty fleet, and the overview still shows the newest drift', async () => {
    api = createTestApi();
    const page = await requestPage(api, '/drift');
    expect(page.status).toBe(200);
    expect(textOf(page.html)).toContain('No drift events match these filters.');
    await seedFleet(api.aggregator.store);
    await api.aggregator.drift.settle();
    const overview = await requestPage(api, '/');
    expect(overview.status).toBe(200);
    expect(textOf(overview.html)).toContain('config.env.LOG_LEVEL');
  });
});
