import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addHost, PROMOTION, seedFleet, serverFacts } from '../../../testing/drift-fleet.js';
import { createTestApi, type TestApi } from '../../../testing/test-api.js';
import { requestPage, textOf } from '../../../testing/test-dashboard.js';
import { ENVIRONMENTS_PER_PAGE, VALUES_PER_ENVIRONMENT } from './facts-page.js';

let api: TestApi;
beforeEach(async () => {
  api = createTestApi({ promotion: PROMOTION });
  await seedFleet(api.aggregator.store);
});
afterEach(async () => {
  await api.aggregator.stop();
});

/** The visible text of the section of one environment. */
function sectionText(html: string, environment: string): string {
  const start = html.indexOf(`<a href="/environments/${environment}">`);
  if (start === -1) return '';
  const end = html.indexOf('</section>', start);
  return textOf(html.slice(start, end));
}

/** `value` links of the page, decoded as the host filter reads them. */
function valueLinks(html: string): { env: string | null; fact: string | null; value: string | null }[] {
  return [...html.matchAll(/href="(\/hosts\?[^"]+)"/g)].map((m) => {
    const url = new URL((m[1] ?? '').replaceAll('&amp;', '&'), 'http://x');
    return {
      env: url.searchParams.get('env'),
      fact: url.searchParams.get('fact'),
      value: url.searchParams.get('value'),
    };
  });
}

describe('/facts', () => {
  it('shows a form and an explanation without a path', async () => {
    const { status, html } = await requestPage(api, '/facts');
    expect(status).toBe(200);
    expect(html).toContain('<title>Facts · envparity</title>');
    expect(html).toMatch(/<form class="filters" method="get" action="\/facts">/);
    expect(html).toMatch(/<input type="text" name="path" value=""/);
    expect(html).toContain('<option value="production">production</option>');
    expect(textOf(html)).toContain('Every value of one fact across the fleet');
  });

  it('lists the values of a path per environment, promotion order, each linked to its hosts', async () => {
    const { status, html } = await requestPage(api, '/facts?path=library.openssl');
    expect(status).toBe(200);
    expect(html).toContain('<title>Fact library.openssl · envparity</title>');
    expect(textOf(html)).toContain('Reported by 6 of 6 hosts; 3 distinct values. Class behavior');
    expect(sectionText(html, 'dev')).toBe('dev 1 of 1 hosts value hosts share 3.0.14 1 100.0% 100.0%');
    expect(sectionText(html, 'staging')).toContain('3.0.13 2 100.0%');
    expect(sectionText(html, 'production')).toContain('3.0.11 3 100.0%');
    expect(html.indexOf('/environments/dev"')).toBeLessThan(html.indexOf('/environments/staging"'));
    expect(html.indexOf('/environments/staging"')).toBeLessThan(html.indexOf('/environments/production"'));
    expect(html).toContain('<meter min="0" max="1" value="1">');
    expect(valueLinks(html)).toContainEqual({ env: 'production', fact: 'library.openssl', value: '3.0.11' });
    expect(html).toMatch(/<input type="text" name="path" value="library.openssl"/);
  });

  it('shares and absent hosts', async () => {
    await addHost(
      api.aggregator.store,
      'prod-4',
      'production',
      serverFacts('prod-4', { 'config.env.LOG_LEVEL': undefined }),
    );
    const text = sectionText((await requestPage(api, '/facts?path=config.env.LOG_LEVEL')).html, 'production');
    expect(text).toContain('production 3 of 4 hosts');
    expect(text).toContain('info 2 50.0%');
    expect(text).toContain('warn 1 25.0%');
    expect(text).toContain('(absent) 1 25.0%');
  });

  it('encodes non-string values as the host filter expects, and the links find the hosts', async () => {
    for (const path of ['config.sysctl["net.core.somaxconn"]', 'network.dns.servers', 'hardware.cpu.cores']) {
      const { html } = await requestPage(api, `/facts?path=${encodeURIComponent(path)}&env=production`);
      const [link] = valueLinks(html);
      expect(link?.fact).toBe(path);
      const listed = await api.get(
        `/api/v1/hosts?environment=production&fact=${encodeURIComponent(path)}&value=${encodeURIComponent(link?.value ?? '')}`,
      );
      expect(listed.body.hosts.map((host: { id: string }) => host.id)).toEqual(['prod-1', 'prod-2', 'prod-3']);
    }
    const { html } = await requestPage(api, '/facts?path=network.dns.servers');
    expect(valueLinks(html)).toContainEqual({
      env: 'dev',
      fact: 'network.dns.servers',
      value: '["10.0.0.2","10.0.0.3"]',
    });
  });

  it('keeps one environment with env, and answers 404 for an unknown one', async () => {
    const { html } = await requestPage(api, '/facts?path=library.openssl&env=staging');
    expect(sectionText(html, 'staging')).toContain('3.0.13 2 100.0%');
    expect(sectionText(html, 'production')).toBe('');
    expect(textOf(html)).toContain('Reported by 2 of 2 hosts in staging; 1 distinct value.');
    expect(html).toContain('<option value="staging" selected="">staging</option>');
    const missing = await requestPage(api, '/facts?path=library.openssl&env=nowhere');
    expect(missing.status).toBe(404);
    expect(textOf(missing.html)).toContain('unknown environment "nowhere"');
  });

  it('says so when no host reports the path, and answers 400 for a malformed one', async () => {
    const unknown = await requestPage(api, '/facts?path=library.dpkg.nothing');
    expect(unknown.status).toBe(200);
    expect(textOf(unknown.html)).toContain('No host reports library.dpkg.nothing .');
    const inOne = await requestPage(api, '/facts?path=library.openssl&env=dev');
    expect(textOf(inOne.html)).not.toContain('No host');
    const bad = await requestPage(api, '/facts?path=library..openssl');
    expect(bad.status).toBe(400);
    expect(textOf(bad.html)).toContain('path: not a valid fact path');
    expect((await requestPage(api, '/facts?path=os.release&page=0')).status).toBe(400);
  });

  it('takes any valid spelling of a path and shows its canonical one', async () => {
    const { html } = await requestPage(api, `/facts?path=${encodeURIComponent('library["openssl"]')}`);
    expect(textOf(html)).toContain('Fact library.openssl');
    expect(sectionText(html, 'production')).toContain('3.0.11 3');
  });

  it('shows secret hashes shortened, never in full', async () => {
    const hash = `hmac-sha256:${'ab12'.repeat(16)}`;
    await addHost(api.aggregator.store, 'qa-1', 'qa', serverFacts('qa-1', { 'config.env.API_KEY': hash }));
    const { html } = await requestPage(api, '/facts?path=config.env.API_KEY');
    const text = textOf(html);
    expect(text).toContain('hmac-sha256:ab12ab12… (secret, compared by hash)');
    expect(text).not.toContain(hash);
  });

  it('caps the values per environment and pages the environments', async () => {
    for (let i = 0; i < VALUES_PER_ENVIRONMENT + 2; i++) {
      await addHost(api.aggregator.store, `qa-${i}`, 'qa', serverFacts(`qa-${i}`, { 'runtime.node': `20.0.${i}` }));
    }
    for (let i = 0; i < ENVIRONMENTS_PER_PAGE; i++) {
      await addHost(api.aggregator.store, `pr-${i}`, `pr-${String(i).padStart(2, '0')}`, serverFacts(`pr-${i}`));
    }
    // Promotion order first, then by name: qa is the last of 24 environments.
    const first = await requestPage(api, '/facts?path=runtime.node');
    expect(sectionText(first.html, 'qa')).toBe('');
    expect(sectionText(first.html, 'dev')).not.toBe('');
    expect(textOf(first.html)).toContain(`environments 1–${ENVIRONMENTS_PER_PAGE} of ${ENVIRONMENTS_PER_PAGE + 4}`);
    expect(first.html).toContain('href="/facts?path=runtime.node&amp;page=2"');
    const second = await requestPage(api, '/facts?path=runtime.node&page=2');
    expect(textOf(second.html)).toContain(`environments ${ENVIRONMENTS_PER_PAGE + 1}–${ENVIRONMENTS_PER_PAGE + 4} of`);
    expect(second.html).toContain('href="/facts?path=runtime.node"');
    const qa = sectionText(second.html, 'qa');
    expect(qa).toContain('2 more values, on 2 hosts.');
    expect(qa).toContain('All values in qa');
    expect(second.html).toContain('href="/facts?path=runtime.node&amp;env=qa"');
    const whole = sectionText((await requestPage(api, '/facts?path=runtime.node&env=qa')).html, 'qa');
    expect(whole).not.toContain('more values');
  });
});

describe('/facts on an empty fleet', () => {
  it('renders the form and says no host reports a path', async () => {
    const empty = createTestApi();
    try {
      expect((await requestPage(empty, '/facts')).status).toBe(200);
      const { status, html } = await requestPage(empty, '/facts?path=os.release');
      expect(status).toBe(200);
      expect(textOf(html)).toContain('No host reports os.release .');
    } finally {
      await empty.aggregator.stop();
    }
  });
});
