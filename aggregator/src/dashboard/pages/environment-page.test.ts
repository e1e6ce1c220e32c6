import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addHost, PROMOTION, seedFleet, serverFacts } from '../../../testing/drift-fleet.js';
import { createTestApi, type TestApi } from '../../../testing/test-api.js';
import { requestPage, textOf } from '../../../testing/test-dashboard.js';
import { hashToken } from '../../token-hash.js';
import { BASELINE_ROWS_PER_CATEGORY } from './environment-baseline.js';
import { HOSTS_PER_GROUP } from './environment-page.js';

let api: TestApi;
beforeEach(async () => {
  api = createTestApi({ promotion: PROMOTION });
  await seedFleet(api.aggregator.store);
});
afterEach(async () => {
  await api.aggregator.stop();
});

/** The HTML of the `<details id="cat-…">` of one category (up to the next one). */
function categoryHtml(html: string, category: string): string {
  const start = html.indexOf(`<details id="cat-${category}"`);
  if (start === -1) return '';
  const end = html.indexOf('</details>', start);
  return html.slice(start, end);
}

/** The rows of the outlier table, as visible text. */
function outlierRows(html: string): string[] {
  const start = html.indexOf('id="environment-outliers"');
  const end = html.indexOf('id="environment-baseline"');
  const region = html.slice(start, end);
  return [...region.matchAll(/<tr>([\s\S]*?)<\/tr>/g)]
    .map((m) => textOf(m[1] ?? ''))
    .filter((t) => !t.startsWith('hosts difference'));
}

describe('/environments/:env', () => {
  it('shows the hosts, the baseline fingerprint and the compares either side', async () => {
    api.presence.set('prod-1', true);
    const { status, html } = await requestPage(api, '/environments/production');
    expect(status).toBe(200);
    expect(html).toContain('<title>Environment production · envparity</title>');
    const text = textOf(html);
    expect(text).toContain('Environment production');
    expect(text).toContain('1 online / 3');
    expect(html).toContain('href="/hosts?env=production"');
    const { fingerprint } = api.aggregator.queries.environment('production').baseline;
    expect(html).toContain(`title="${fingerprint}"`);
    expect(text).toContain(fingerprint.slice(0, 12));
    expect(text).not.toContain(fingerprint);
    expect(html).toContain('href="/compare?from=staging&amp;to=production"');
    expect(text).toContain('downstream none');
    expect(text).not.toContain('stale');
  });

  it('marks a stale baseline and links the downstream compare', async () => {
    const { html } = await requestPage(api, '/environments/staging');
    expect(textOf(html)).toContain('Environment staging stale');
    expect(html).toContain('href="/compare?from=dev&amp;to=staging"');
    expect(html).toContain('href="/compare?from=staging&amp;to=production"');
  });

  it('lists the baseline by category, collapsed, with values, classes and support', async () => {
    await addHost(api.aggregator.store, 'prod-4', 'production', serverFacts('prod-4', { 'hardware.cpu.cores': 16 }));
    const { html } = await requestPage(api, '/environments/production');
    const library = categoryHtml(html, 'library');
    expect(library).not.toBe('');
    expect(library).toMatch(/^<details id="cat-library">/);
    const text = textOf(library);
    expect(text).toMatch(/^library 4 paths/);
    expect(text).toContain('library.openssl 3.0.11 behavior 3 of 4 hosts');
    expect(text).toContain('library.glibc 2.36 behavior 4 of 4 hosts');
    expect(textOf(categoryHtml(html, 'hardware'))).toContain('hardware.cpu.cores 16 scale 4 of 4 hosts');
    expect(library).toContain('href="/facts?path=library.openssl&amp;env=production"');
    // Never compared: neither volatile nor identity paths are in the baseline.
    expect(html).not.toContain('os.uptime');
    expect(html).not.toContain('host.hostname');
  });

  it('searches the baseline: matching paths only, their categories open', async () => {
    const { html } = await requestPage(api, '/environments/production?q=SSL');
    const library = categoryHtml(html, 'library');
    expect(library).toMatch(/^<details id="cat-library" open="">/);
    const text = textOf(library);
    expect(text).toMatch(/^library 2 of 4 paths/);
    expect(text).toContain('library.openssl');
    expect(text).toContain('library.dpkg.libssl3');
    expect(text).not.toContain('library.glibc');
    expect(categoryHtml(html, 'os')).toBe('');
    expect(html).toMatch(/<input type="search" name="q" value="SSL"/);
    const none = await requestPage(api, '/environments/production?q=nothing-like-it');
    expect(textOf(none.html)).toContain('No baseline path contains “nothing-like-it”.');
  });

  it('cuts a long category and shows it whole with cat', async () => {
    const packages: Record<string, string> = {};
    for (let i = 0; i < BASELINE_ROWS_PER_CATEGORY + 5; i++)
      packages[`library.dpkg.pkg${String(i).padStart(3, '0')}`] = '1.0';
    await addHost(api.aggregator.store, 'qa-1', 'qa', serverFacts('qa-1', packages));
    const cut = categoryHtml((await requestPage(api, '/environments/qa')).html, 'library');
    expect(cut.match(/<tr>/g)?.length).toBe(BASELINE_ROWS_PER_CATEGORY + 1);
    expect(textOf(cut)).toContain('9 more paths: show all of library');
    expect(cut).toContain('href="/environments/qa?cat=library"');
    const whole = categoryHtml((await requestPage(api, '/environments/qa?cat=library')).html, 'library');
    expect(whole).toMatch(/^<details id="cat-library" open="">/);
    expect(whole.match(/<tr>/g)?.length).toBe(BASELINE_ROWS_PER_CATEGORY + 5 + 4 + 1);
  });

  it('groups outlier hosts by the difference they share, with the first hosts and a link to all', async () => {
    for (let i = 1; i <= 20; i++) {
      await addHost(
        api.aggregator.store,
        `big-${String(i).padStart(2, '0')}`,
        'big',
        serverFacts(`big-${i}`, { 'library.openssl': '3.0.15' }),
      );
    }
    for (let i = 1; i <= 12; i++) {
      await addHost(
        api.aggregator.store,
        `old-${String(i).padStart(2, '0')}`,
        'big',
        serverFacts(`old-${i}`, { 'library.openssl': '3.0.13' }),
      );
    }
    await addHost(
      api.aggregator.store,
      'dbg-1',
      'big',
      serverFacts('dbg-1', { 'library.openssl': '3.0.15', 'config.env.LOG_LEVEL': 'debug' }),
    );
    const { html } = await requestPage(api, '/environments/big');
    const rows = outlierRows(html);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(
      /^12 hosts library\.openssl 3\.0\.13 instead of 3\.0\.15 drift old-01 , old-02 , (old-0\d , ){7}old-10 \+2 more$/,
    );
    expect(rows[1]).toBe('1 host config.env.LOG_LEVEL debug instead of info drift dbg-1');
    expect(html).toContain('href="/hosts?env=big&amp;fact=library.openssl&amp;value=3.0.13"');
    expect(html).toContain('href="/hosts/old-01"');
    expect(html).not.toContain('href="/hosts/old-11"');
    expect(textOf(html)).toContain('13 hosts differ from the baseline in 2 ways.');
    expect(HOSTS_PER_GROUP).toBe(10);
    // The link names exactly the hosts of the group.
    const listed = await api.get('/api/v1/hosts?environment=big&fact=library.openssl&value=3.0.13');
    expect(listed.body.hosts).toHaveLength(12);
  });

  it('caps the groups and links to more', async () => {
    await addHost(
      api.aggregator.store,
      'prod-4',
      'production',
      serverFacts('prod-4', { 'library.openssl': '3.0.11', 'hardware.cpu.cores': 16, 'runtime.node': '22.0.0' }),
    );
    const { html } = await requestPage(api, '/environments/production?groups=1');
    expect(outlierRows(html)).toHaveLength(1);
    expect(textOf(html)).toContain('Showing the first 1 of 2 differences. Show 2');
    expect(html).toContain('href="/environments/production?groups=2"');
    expect(outlierRows((await requestPage(api, '/environments/production?groups=2')).html)).toHaveLength(2);
  });

  it('shows a missing path on either side', async () => {
    await addHost(
      api.aggregator.store,
      'prod-4',
      'production',
      serverFacts('prod-4', { 'runtime.python': undefined, 'runtime.ruby': '3.3' }),
    );
    const rows = outlierRows((await requestPage(api, '/environments/production')).html);
    expect(rows).toContain('1 host runtime.python missing (baseline 3.11.2 ) drift prod-4');
    expect(rows).toContain('1 host runtime.ruby 3.3 (not in the baseline) drift prod-4');
  });

  it('marks justified outliers with the exception reason, and shows scale ones with scale=1', async () => {
    const created = await api.request('POST', '/api/v1/exceptions', {
      body: { path: 'config.env.*', environments: ['production'], reason: 'prod-3 debugs a customer issue' },
    });
    expect(created.status).toBe(201);
    await addHost(
      api.aggregator.store,
      'prod-4',
      'production',
      serverFacts('prod-4', { 'library.openssl': '3.0.11', 'hardware.cpu.cores': 4 }),
    );
    const { html } = await requestPage(api, '/environments/production');
    expect(outlierRows(html)).toEqual([
      '1 host config.env.LOG_LEVEL warn instead of info justified prod-3 debugs a customer issue prod-3',
    ]);
    expect(html).toContain(`href="/exceptions#exception-${created.body.id}"`);
    expect(html).toContain('href="/environments/production?scale=1"');
    const scaled = await requestPage(api, '/environments/production?scale=1');
    expect(outlierRows(scaled.html)).toEqual([
      '1 host config.env.LOG_LEVEL warn instead of info justified prod-3 debugs a customer issue prod-3',
      '1 host hardware.cpu.cores 4 instead of 16 scale prod-4',
    ]);
    expect(scaled.html).toContain('<input type="hidden" name="scale" value="1"');
  });

  it('lists tied paths with their values and host counts', async () => {
    await addHost(api.aggregator.store, 'stg-3', 'staging', serverFacts('stg-3', { 'library.openssl': '3.0.14' }));
    await addHost(api.aggregator.store, 'stg-4', 'staging', serverFacts('stg-4', { 'library.openssl': '3.0.14' }));
    const { html } = await requestPage(api, '/environments/staging');
    const text = textOf(html);
    expect(text).toContain('Tied paths (1)');
    expect(text).toContain('library.openssl 3.0.13 · 2 hosts 3.0.14 · 2 hosts');
    expect(html).toContain('href="/hosts?env=staging&amp;fact=library.openssl&amp;value=3.0.14"');
    // A tie is no outlier, and not in the baseline's facts.
    expect(text).toContain('Every host matches the baseline in behavior: no outlier.');
    expect(textOf(categoryHtml(html, 'library'))).not.toContain('library.openssl');
  });

  it('answers 404 for an unknown environment and 400 naming a bad parameter', async () => {
    const missing = await requestPage(api, '/environments/nowhere');
    expect(missing.status).toBe(404);
    expect(textOf(missing.html)).toContain('unknown environment "nowhere"');
    for (const [query, name] of [
      ['groups=0', 'groups'],
      ['groups=abc', 'groups'],
      ['scale=yes', 'scale'],
      ['cat=a.b', 'cat'],
    ] as const) {
      const bad = await requestPage(api, `/environments/production?${query}`);
      expect(bad.status).toBe(400);
      expect(textOf(bad.html)).toContain(`${name}:`);
    }
  });

  it('is readable with a read token', async () => {
    await api.aggregator.store.createApiToken({
      name: 'viewer',
      scope: 'read',
      tokenHash: hashToken('read-token'),
      at: 0,
    });
    const { status, html } = await requestPage(api, '/environments/production', { token: 'read-token' });
    expect(status).toBe(200);
    expect(textOf(html)).toContain('config.env.LOG_LEVEL warn instead of info');
  });
});

describe('/environments/:env with no facts yet', () => {
  it('renders a declared environment without hosts', async () => {
    const empty = createTestApi({ promotion: PROMOTION });
    try {
      const { status, html } = await requestPage(empty, '/environments/staging');
      expect(status).toBe(200);
      const text = textOf(html);
      expect(text).toContain('0 online / 0');
      expect(text).toContain('No host of this environment has reported facts yet');
      expect(html).not.toContain('<details');
    } finally {
      await empty.aggregator.stop();
    }
  });
});
