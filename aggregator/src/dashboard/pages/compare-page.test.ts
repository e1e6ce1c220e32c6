import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addHost, PROMOTION, seedFleet, serverFacts } from '../../../testing/drift-fleet.js';
import { createTestApi, type TestApi } from '../../../testing/test-api.js';
import { requestPage, textOf } from '../../../testing/test-dashboard.js';

let api: TestApi;
beforeEach(async () => {
  api = createTestApi({ promotion: PROMOTION });
  await seedFleet(api.aggregator.store);
});
afterEach(async () => {
  await api.aggregator.stop();
});

async function readToken(): Promise<string> {
  const { body } = await api.request('POST', '/api/v1/tokens', { body: { name: 'viewer', scope: 'read' } });
  return body.token;
}

/** The rows of the differences tables, as visible text. */
function rows(html: string): string[] {
  const results = html.slice(html.indexOf('id="compare-results"'));
  return [...results.matchAll(/<tr>([\s\S]*?)<\/tr>/g)]
    .map((m) => textOf(m[1] ?? ''))
    .filter((t) => !t.startsWith('path '));
}

describe('GET /compare', () => {
  it('without sides shows a GET form to pick two environments or hosts', async () => {
    const res = await requestPage(api, '/compare');
    expect(res.status).toBe(200);
    expect(res.html).toContain('<title>Compare · envparity</title>');
    expect(res.html).toMatch(/<form class="filters" method="get" action="\/compare"/);
    // Promotion order, the first two preselected.
    expect(res.html).toMatch(
      /<select name="from">[\s\S]*<option value="dev" selected="">dev<\/option>[\s\S]*<\/select>/,
    );
    expect(res.html).toMatch(/<select name="to">[\s\S]*<option value="staging" selected="">staging<\/option>/);
    expect(res.html).toContain('name="fromHost"');
    expect(res.html).toContain('name="toHost"');
    expect(textOf(res.html)).toContain('Promotion pairs dev → staging staging → production');
    expect(res.html).toContain('href="/compare?from=staging&amp;to=production"');
  });

  it('folds the host boxes and empty fields into one canonical URL', async () => {
    const res = await requestPage(api, '/compare?from=&fromHost=prod-3&to=production&toHost=&q=');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/compare?from=host%3Aprod-3&to=production');
    const both = await requestPage(api, '/compare?from=staging&fromHost=prod-3&to=production');
    expect(both.status).toBe(400);
    expect(textOf(both.html)).toContain('give `from` or `fromHost`, not both');
  });

  it('shows parity, the two sides and the differences by category', async () => {
    const res = await requestPage(api, '/compare?from=staging&to=production');
    expect(res.status).toBe(200);
    expect(res.html).toContain('<title>staging → production · Compare · envparity</title>');
    const text = textOf(res.html);
    expect(text).toContain('94.1% parity: 16 of 17 behavior paths equal or justified');
    expect(res.html).toContain('href="/environments/staging"');
    expect(res.html).toContain('href="/environments/production"');
    const fingerprint = (await api.get('/api/v1/compare?from=staging&to=production')).body.sides.from.fingerprint;
    expect(text).toContain(fingerprint.replace(/^sha256:/, '').slice(0, 12));
    expect(text).toMatch(/hardware 1 scale .*library 1 drift/);
    expect(rows(res.html).filter((row) => row.startsWith('hardware.') || row.startsWith('library.'))).toEqual([
      'hardware.cpu.cores 8 16 scale',
      'library.openssl 3.0.13 3.0.11 drift Justify',
    ]);
    expect(res.html).toContain('<td class="path"><a href="/facts?path=library.openssl">library.openssl</a>');
    expect(res.html).toContain('href="/compare/justify?from=staging&amp;to=production&amp;path=library.openssl"');
    expect(res.html).toContain('<span class="status drift">drift</span>');
    // The results refresh live; the forms are outside the region.
    expect(res.html).toMatch(/<div id="compare-results" data-live="">/);
    expect(res.html.indexOf('aria-label="filters"')).toBeLessThan(res.html.indexOf('id="compare-results"'));
  });

  it('filters by status, category and path text, all in the URL', async () => {
    const drift = textOf((await requestPage(api, '/compare?from=dev&to=staging&status=drift')).html);
    expect(drift).toContain('config.env.LOG_LEVEL debug info drift');
    expect(drift).toContain('library.openssl 3.0.14 3.0.13 drift');
    expect(drift).not.toContain('hardware.cpu.cores 2 8');
    expect(drift).toContain('2 of 3 match the filters');
    const scale = textOf((await requestPage(api, '/compare?from=dev&to=staging&status=scale')).html);
    expect(scale).toContain('hardware.cpu.cores 2 8 scale');
    expect(scale).not.toContain('library.openssl 3.0.14');
    const q = await requestPage(api, '/compare?from=dev&to=staging&q=OPENSSL');
    expect(textOf(q.html)).toContain('library.openssl 3.0.14 3.0.13 drift');
    expect(textOf(q.html)).not.toContain('config.env.LOG_LEVEL debug');
    expect(q.html).toContain('name="q" value="OPENSSL"');
    // A category narrows the comparison itself, as the API's `category` does (parity of that category).
    const library = textOf((await requestPage(api, '/compare?from=dev&to=staging&category=library')).html);
    expect(library).toContain('75.0% parity: 3 of 4 behavior paths equal or justified (categories library)');
    expect(library).not.toContain('config.env.LOG_LEVEL debug');
    const none = textOf((await requestPage(api, '/compare?from=dev&to=staging&q=nothing-like-this')).html);
    expect(none).toContain('No difference matches these filters.');
  });

  it('answers bad parameters with a 400 naming them, unknown sides with a 404 page', async () => {
    const status = await requestPage(api, '/compare?from=dev&to=staging&status=open');
    expect(status.status).toBe(400);
    expect(textOf(status.html)).toContain('status');
    const category = await requestPage(api, '/compare?from=dev&to=staging&category=nope');
    expect(category.status).toBe(400);
    expect(textOf(category.html)).toContain('expected categories among');
    const unknown = await requestPage(api, '/compare?from=dev&to=qa');
    expect(unknown.status).toBe(404);
    expect(textOf(unknown.html)).toContain('unknown environment "qa"');
    const host = await requestPage(api, '/compare?from=host:ghost&to=qa');
    expect(host.status).toBe(404);
    expect(textOf(host.html)).toContain('unknown host "ghost"');
    const half = await requestPage(api, '/compare?from=dev');
    expect(half.status).toBe(400);
    expect(textOf(half.html)).toContain('query parameter `to` is required');
    expect(half.html).toContain('<option value="dev" selected="">dev</option>');
  });

  it('compares a host with its environment and links the host page', async () => {
    const res = await requestPage(api, '/compare?from=host:prod-3&to=production');
    expect(res.status).toBe(200);
    const text = textOf(res.html);
    expect(text).toContain('config.env.LOG_LEVEL warn info drift');
    expect(res.html).toContain('href="/hosts/prod-3"');
    expect(text).toMatch(/from prod-3 host production/);
  });

  it('pages long lists on the server with previous/next links', async () => {
    const first = await requestPage(api, '/compare?from=dev&to=staging&limit=2');
    const text = textOf(first.html);
    expect(text).toContain('page 1 of 2');
    expect(text).toContain('config.env.LOG_LEVEL');
    expect(text).not.toContain('library.openssl 3.0.14');
    expect(first.html).toContain('href="/compare?from=dev&amp;to=staging&amp;page=2&amp;limit=2"');
    const second = textOf((await requestPage(api, '/compare?from=dev&to=staging&limit=2&page=2')).html);
    expect(second).toContain('library.openssl 3.0.14 3.0.13 drift');
    expect(second).not.toContain('config.env.LOG_LEVEL debug');
    expect((await requestPage(api, '/compare?from=dev&to=staging&limit=5000')).status).toBe(400);
  });

  it('shows secret hashes shortened and labelled, never whole', async () => {
    const hash = `hmac-sha256:${'ab'.repeat(32)}`;
    await addHost(api.aggregator.store, 'qa-1', 'qa', serverFacts('qa-1', { 'config.env.API_KEY': hash }));
    const res = await requestPage(api, '/compare?from=staging&to=qa');
    expect(textOf(res.html)).toContain('(absent) hmac-sha256:abababab… (secret, compared by hash) drift');
    expect(res.html).not.toContain(hash);
  });

  it('offers Justify to admins only', async () => {
    const read = await requestPage(api, '/compare?from=staging&to=production', { token: await readToken() });
    expect(read.status).toBe(200);
    expect(textOf(read.html)).toContain('library.openssl 3.0.13 3.0.11 drift');
    expect(read.html).not.toContain('/compare/justify');
  });

  it('answers a live refresh with the content only', async () => {
    const live = await requestPage(api, '/compare?from=staging&to=production', {
      headers: { 'x-envparity-live': '1' },
    });
    expect(live.status).toBe(200);
    expect(live.html).not.toContain('<html');
    expect(live.html).toContain('id="compare-results"');
  });
});

describe('GET /compare with an empty fleet', () => {
  it('renders the form with no environment to pick', async () => {
    const empty = createTestApi();
    try {
      const res = await requestPage(empty, '/compare');
      expect(res.status).toBe(200);
      expect(res.html).toContain('<select name="from">');
      expect(textOf(res.html)).toContain('Pick two environments');
    } finally {
      await empty.aggregator.stop();
    }
  });
});
