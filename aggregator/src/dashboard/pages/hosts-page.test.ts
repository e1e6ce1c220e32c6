import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addHost, PROMOTION, seedFleet, serverFacts } from '../../../testing/drift-fleet.js';
import { createTestApi, type TestApi } from '../../../testing/test-api.js';
import { requestPage, textOf } from '../../../testing/test-dashboard.js';
import { hashToken } from '../../token-hash.js';

let api: TestApi;
beforeEach(async () => {
  api = createTestApi({ promotion: PROMOTION });
});
afterEach(async () => {
  await api.aggregator.stop();
});

/** Host ids in the rows of the host table, in order. */
function hostIds(html: string): string[] {
  const table = /<tbody>([\s\S]*?)<\/tbody>/.exec(html)?.[1] ?? '';
  return [...table.matchAll(/<a href="\/hosts\/([^"]+)">/g)].map((match) => decodeURIComponent(match[1] as string));
}

describe('/hosts', () => {
  it('renders with an empty fleet', async () => {
    const page = await requestPage(api, '/hosts');
    expect(page.status).toBe(200);
    expect(page.html).toContain('<title>Hosts · envparity</title>');
    expect(textOf(page.html)).toContain('No host yet');
    expect(page.html).toContain('<form class="filters" method="get" action="/hosts">');
  });

  it('lists every host with its environment, connection, labels, version, last seen and fingerprint', async () => {
    await seedFleet(api.aggregator.store);
    api.presence.set('stg-1', true);
    await api.aggregator.drift.settle();
    const page = await requestPage(api, '/hosts');
    expect(page.status).toBe(200);
    expect(hostIds(page.html)).toEqual(['dev-1', 'prod-1', 'prod-2', 'prod-3', 'stg-1', 'stg-2']);
    const text = textOf(page.html);
    expect(text).toContain('6 hosts');
    expect(page.html).toContain('<a href="/environments/staging">staging</a>');
    expect(page.html).toContain('<span class="status online">online</span>');
    expect(page.html).toContain('<span class="status offline">offline</span>');
    expect(page.html).toContain('<code>service=api</code>');
    expect(text).toContain('0.1.0');
    expect(page.html).toMatch(/<time datetime="[^"]+" title="[^"]+">\d+ s ago<\/time>/);
    const fingerprint = api.aggregator.store.getHost('stg-1')?.fingerprint ?? '';
    expect(page.html).toContain(fingerprint.replace(/^sha256:/, '').slice(0, 12));
    // The environment select offers every known environment; the table is a live region, the form is not.
    for (const name of ['dev', 'staging', 'production'])
      expect(page.html).toContain(`<option value="${name}">${name}</option>`);
    expect(page.html.indexOf('id="hosts-list" data-live')).toBeGreaterThan(page.html.indexOf('</form>'));
  });

  it('filters by environment, label, connection and fact value, all in the URL', async () => {
    await seedFleet(api.aggregator.store);
    await api.aggregator.store.updateHostInfo('prod-1', {
      environment: 'production',
      labels: { service: 'web' },
      agentVersion: '0.2.0',
    });
    api.presence.set('stg-2', true);
    api.presence.set('prod-2', true);

    const staging = await requestPage(api, '/hosts?env=staging');
    expect(hostIds(staging.html)).toEqual(['stg-1', 'stg-2']);
    expect(staging.html).toContain('<option value="staging" selected="">staging</option>');
    expect(staging.html).toContain('<title>Hosts of staging · envparity</title>');

    const web = await requestPage(api, '/hosts?label=service%3Dweb');
    expect(hostIds(web.html)).toEqual(['prod-1']);
    expect(web.html).toContain('value="service=web"');

    expect(hostIds((await requestPage(api, '/hosts?online=yes')).html)).toEqual(['prod-2', 'stg-2']);
    const offline = await requestPage(api, '/hosts?online=no&env=production');
    expect(hostIds(offline.html)).toEqual(['prod-1', 'prod-3']);
    expect(offline.html).toContain('<option value="no" selected="">no</option>');

    const openssl = await requestPage(api, '/hosts?fact=library.openssl&value=3.0.13');
    expect(hostIds(openssl.html)).toEqual(['stg-1', 'stg-2']);
    expect(textOf(openssl.html)).toContain('2 hosts match');
    expect(
      hostIds((await requestPage(api, '/hosts?fact=library.openssl&online=yes&label=service%3Dapi')).html),
    ).toEqual(['prod-2', 'stg-2']);
    const none = await requestPage(api, '/hosts?fact=library.openssl&value=9');
    expect(textOf(none.html)).toContain('No host matches these filters.');
  });

  it('answers a malformed filter with a 400 page naming the parameter, an unknown environment with a 404', async () => {
    await seedFleet(api.aggregator.store);
    const cases: [string, string][] = [
      ['/hosts?online=maybe', 'online: expected yes, no or any'],
      ['/hosts?label=service', 'label: expected key=value'],
      ['/hosts?fact=not..a.path', 'fact: not a valid fact path'],
      ['/hosts?value=3', 'value: needs fact'],
      ['/hosts?page=0', 'page: expected a whole number'],
      ['/hosts?page=two', 'page: expected a whole number'],
    ];
    for (const [path, message] of cases) {
      const page = await requestPage(api, path);
      expect(page.status, path).toBe(400);
      expect(textOf(page.html), path).toContain(message);
    }
    const unknown = await requestPage(api, '/hosts?env=qa');
    expect(unknown.status).toBe(404);
    expect(textOf(unknown.html)).toContain('unknown environment "qa"');
  });

  it('pages a hundred hosts at a time on the server, links keeping the filters', async () => {
    await seedFleet(api.aggregator.store);
    const ids = Array.from({ length: 230 }, (_, i) => `bulk-${String(i).padStart(3, '0')}`);
    for (const id of ids) await addHost(api.aggregator.store, id, 'staging', serverFacts(id));

    const first = await requestPage(api, '/hosts?env=staging&online=no');
    expect(hostIds(first.html)).toEqual(ids.slice(0, 100));
    expect(textOf(first.html)).toContain('232 hosts match (showing 1–100)');
    expect(textOf(first.html)).toContain('page 1 of 3');
    expect(first.html).toContain('<a href="/hosts?env=staging&amp;online=no&amp;page=2" rel="next">');

    const second = await requestPage(api, '/hosts?env=staging&online=no&page=2');
    expect(hostIds(second.html)).toEqual(ids.slice(100, 200));
    expect(second.html).toContain('<a href="/hosts?env=staging&amp;online=no" rel="prev">');
    expect(second.html).toContain('<a href="/hosts?env=staging&amp;online=no&amp;page=3" rel="next">');

    const last = await requestPage(api, '/hosts?env=staging&online=no&page=3');
    expect(hostIds(last.html)).toEqual([...ids.slice(200), 'stg-1', 'stg-2']);
    expect(last.html).not.toContain('rel="next"');

    const past = await requestPage(api, '/hosts?env=staging&page=9');
    expect(past.status).toBe(200);
    expect(textOf(past.html)).toContain('Page 9 is past the last page (3).');
    expect(past.html).toContain('<a href="/hosts?env=staging&amp;page=3" rel="prev">');
  });

  it('is readable with a read token, and escapes what hosts declare', async () => {
    await addHost(api.aggregator.store, 'odd', 'staging', serverFacts('odd'));
    await api.aggregator.store.updateHostInfo('odd', {
      environment: 'staging',
      labels: { team: '<b>x</b>' },
      agentVersion: '<i>1</i>',
    });
    await api.aggregator.store.createApiToken({
      name: 'reader',
      scope: 'read',
      tokenHash: hashToken('read-token'),
      at: 0,
    });
    const page = await requestPage(api, '/hosts', { token: 'read-token' });
    expect(page.status).toBe(200);
    expect(page.html).toContain('<code>team=&lt;b&gt;x&lt;/b&gt;</code>');
    expect(page.html).not.toContain('<b>x</b>');
    expect(page.html).not.toContain('<i>1</i>');
  });
});
