import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addHost, changeHost, PROMOTION, seedFleet, serverFacts, T0 } from '../../../testing/drift-fleet.js';
import { createTestApi, type TestApi } from '../../../testing/test-api.js';
import { requestPage, textOf } from '../../../testing/test-dashboard.js';
import { hashToken } from '../../token-hash.js';

let api: TestApi;
beforeEach(async () => {
  api = createTestApi({ promotion: PROMOTION });
  await seedFleet(api.aggregator.store);
  await api.aggregator.drift.settle();
});
afterEach(async () => {
  await api.aggregator.stop();
});

/** The HTML of one live region of a page. */
function region(html: string, id: string): string {
  const start = html.indexOf(`<div id="${id}" data-live="">`);
  if (start === -1) throw new Error(`no region ${id}`);
  const next = html.indexOf('<div id="host-', start + 1);
  return html.slice(start, next === -1 ? undefined : next);
}

/** `path from → to` of each timeline row, in order. */
function timeline(html: string): string[] {
  const rows = region(html, 'host-changes').match(/<tr>[\s\S]*?<\/tr>/g) ?? [];
  return rows.slice(1).map((row) => textOf(row).replace(/^\S+ \S+ (ago )?/, ''));
}

describe('/hosts/:id', () => {
  it('shows who the host is, with links to its environment and the compare with it', async () => {
    api.presence.set('prod-3', true);
    api.clock.now = T0 + 120_000;
    await api.aggregator.drift.settle();
    const page = await requestPage(api, '/hosts/prod-3');
    expect(page.status).toBe(200);
    expect(page.html).toContain('<title>Host prod-3 · envparity</title>');
    const identity = region(page.html, 'host-identity');
    const text = textOf(identity);
    expect(text).toContain('hostname prod-3');
    expect(text).toContain('labels service=api');
    expect(text).toContain('agent version 0.1.0');
    expect(text).toContain(`enrolled 2 min ago ${new Date(T0).toISOString().replace('.000Z', 'Z')}`);
    expect(identity).toContain('<a href="/environments/production">production</a>');
    expect(identity).toContain(
      '<a href="/compare?from=production&amp;to=host%3Aprod-3">compare with its environment</a>',
    );
    expect(identity).toContain('<span class="status online">online</span>');
    const fingerprint = api.aggregator.store.getHost('prod-3')?.fingerprint ?? '';
    expect(identity).toContain(fingerprint.replace(/^sha256:/, '').slice(0, 12));
    expect(text).toContain('presence online connected, counted in its baseline');
    expect(text).not.toContain('retired');
  });

  it('shows a host that declares no environment, with nothing to compare it with', async () => {
    await api.aggregator.store.enrollHost({
      hostId: 'loose',
      tokenHash: hashToken('agent-loose'),
      environment: null,
      labels: {},
      agentVersion: null,
      at: T0,
    });
    const page = await requestPage(api, '/hosts/loose');
    expect(page.status).toBe(200);
    expect(textOf(region(page.html, 'host-identity'))).toContain('environment none declared');
    expect(page.html).not.toContain('compare with its environment');
    expect(textOf(region(page.html, 'host-baseline'))).toContain('This host declares no environment.');
    expect(textOf(region(page.html, 'host-facts'))).toContain('This host has not reported facts yet.');
  });

  it('lists how it differs from its environment baseline, judged as compare judges it', async () => {
    const outlier = region((await requestPage(api, '/hosts/prod-3')).html, 'host-baseline');
    expect(textOf(outlier)).toContain('drift config.env.LOG_LEVEL info warn');
    expect(outlier).toContain('<span class="status drift">drift</span>');
    const comparison = await api.get('/api/v1/compare?from=production&to=host:prod-3');
    expect(comparison.status).toBe(200);
    const paths = (comparison.body.differences as { path: string }[]).map((d) => d.path);
    for (const path of paths) expect(textOf(outlier)).toContain(path);

    const same = region((await requestPage(api, '/hosts/prod-1')).html, 'host-baseline');
    expect(textOf(same)).toContain('matches its baseline');
    expect(same).not.toContain('<table>');
  });

  it('shows facts by category with their class, values through the secret-aware view', async () => {
    const secret = `hmac-sha256:${'ab12'.repeat(16)}`;
    await changeHost(api.aggregator.store, 'stg-1', T0 + 1000, { 'config.env.API_KEY': secret });
    const html = (await requestPage(api, '/hosts/stg-1')).html;
    const facts = region(html, 'host-facts');
    for (const category of ['app', 'config', 'hardware', 'host', 'library', 'network', 'os', 'runtime']) {
      expect(facts).toContain(`<details id="facts-${category}">`);
    }
    expect(textOf(facts)).toContain('library (4 facts)');
    expect(textOf(facts)).toContain('app (1 fact)');
    const rows = (facts.match(/<tr>[\s\S]*?<\/tr>/g) ?? []).map(textOf);
    const row = (path: string) => rows.find((text) => text.startsWith(`${path} `));
    expect(row('host.hostname')).toBe('host.hostname stg-1 identity');
    expect(row('hardware.cpu.cores')).toBe('hardware.cpu.cores 8 scale');
    expect(row('os.uptime')).toContain('volatile');
    expect(row('library.openssl')).toBe('library.openssl 3.0.13 behavior');
    expect(row('network.dns.servers')).toBe('network.dns.servers ["10.0.0.2","10.0.0.3"] behavior');
    expect(row('config.env.API_KEY')).toBe(
      'config.env.API_KEY hmac-sha256:ab12ab12… (secret, compared by hash) behavior',
    );
    // The full hash appears nowhere on the page (the timeline shows the change through the same view).
    expect(html).not.toContain(secret);
    expect(textOf(region(html, 'host-changes'))).toContain(
      '(absent) → hmac-sha256:ab12ab12… (secret, compared by hash)',
    );
  });

  it('lists changes newest first, 50 a page, with an older link that loses and repeats none', async () => {
    // 12 reports of 10 changes each: changes of one report share their time, so pages split them.
    const expected: string[] = [];
    for (let report = 1; report <= 12; report++) {
      const set: Record<string, string> = {};
      for (let i = 0; i < 10; i++) set[`config.env.V${String(i).padStart(2, '0')}`] = `r${report}`;
      await changeHost(api.aggregator.store, 'stg-2', T0 + report * 60_000, set);
      const newest = Object.keys(set).map(
        (path) => `${path} ${report === 1 ? '(absent)' : `r${report - 1}`} → r${report}`,
      );
      expected.unshift(...newest.reverse());
    }
    api.clock.now = T0 + 13 * 60_000;
    const seen: string[] = [];
    let path = '/hosts/stg-2';
    for (let page = 0; page < 5; page++) {
      const res = await requestPage(api, path);
      expect(res.status).toBe(200);
      const rows = timeline(res.html);
      seen.push(...rows);
      const older = /<a href="([^"]+)#changes" rel="next">/.exec(region(res.html, 'host-changes'))?.[1];
      if (page === 0) {
        expect(rows).toHaveLength(50);
        expect(rows[0]).toBe('config.env.V09 r11 → r12');
        expect(region(res.html, 'host-changes')).toContain('<span class="muted">← newest</span>');
      } else {
        expect(region(res.html, 'host-changes')).toContain('<a href="/hosts/stg-2#changes">← newest</a>');
      }
      if (!older) break;
      expect(older).toMatch(/^\/hosts\/stg-2\?before=[^&]+&amp;skip=\d+$/);
      path = older.replace(/&amp;/g, '&');
    }
    expect(seen).toEqual(expected);
    expect(seen).toHaveLength(120);
  });

  it('marks emergency changes', async () => {
    api.clock.now += 60_000;
    await changeHost(api.aggregator.store, 'prod-2', api.clock.now, { 'library.openssl': '3.0.16' });
    await api.aggregator.drift.settle();
    const changes = region((await requestPage(api, '/hosts/prod-2')).html, 'host-changes');
    expect(changes).toContain('<span class="status emergency">emergency</span>');
    expect(timeline(changes)).toEqual(['emergency library.openssl 3.0.11 → 3.0.16']);
  });

  it('says so when there is no change yet, and refuses a malformed cursor naming it', async () => {
    expect(textOf(region((await requestPage(api, '/hosts/dev-1')).html, 'host-changes'))).toContain(
      'No change recorded since its first report.',
    );
    const bad = await requestPage(api, '/hosts/dev-1?before=yesterday');
    expect(bad.status).toBe(400);
    expect(textOf(bad.html)).toContain('before: expected an ISO 8601 time');
    const skip = await requestPage(api, '/hosts/dev-1?skip=3');
    expect(skip.status).toBe(400);
    expect(textOf(skip.html)).toContain('skip: needs before');
  });

  it('answers an unknown host with a 404 page, and shows a retired host as retired', async () => {
    const missing = await requestPage(api, '/hosts/nope');
    expect(missing.status).toBe(404);
    expect(missing.html).toContain('<title>Not found · envparity</title>');
    expect(textOf(missing.html)).toContain('unknown host "nope"');

    await addHost(api.aggregator.store, 'runner', 'production', serverFacts('runner'));
    expect((await api.request('DELETE', '/api/v1/hosts/runner')).status).toBe(200);
    const retired = await requestPage(api, '/hosts/runner');
    expect(retired.status).toBe(200);
    expect(retired.html).toContain('<span class="status expired">retired</span>');
    expect(textOf(region(retired.html, 'host-identity'))).toContain('retired');
  });
});
