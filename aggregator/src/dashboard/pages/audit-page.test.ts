import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { changeHost, PROMOTION, seedFleet } from '../../../testing/drift-fleet.js';
import { createTestApi, type TestApi } from '../../../testing/test-api.js';
import { requestPage, signIn, textOf } from '../../../testing/test-dashboard.js';

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

describe('GET /audit', () => {
  it('renders the live audit: cards, pairs, causes, outliers and every pair’s differences', async () => {
    const res = await requestPage(api, '/audit');
    expect(res.status).toBe(200);
    expect(res.html).toContain('<title>Audit · envparity</title>');
    expect(res.html).toContain('<a href="/audit" aria-current="page">Audit</a>');
    const text = textOf(res.html);
    expect(text).toContain('Environments: dev, staging, production');
    expect(text).toContain('open 5 drift or expired');
    expect(text).toContain('dev → staging promotion');
    expect(text).toContain('dev → production other');
    // The shared cause: one row naming both pairs.
    expect(text).toContain('config.env.LOG_LEVEL debug info drift dev → staging drift dev → production drift');
    // The production outlier.
    expect(text).toContain('1 config.env.LOG_LEVEL info warn drift prod-3');
    expect(text).toContain('library.openssl 3.0.13 3.0.11 drift remediate or justify');
    expect(res.html).toContain('id="pair-2"');
    expect(res.html).toContain('href="/compare?from=staging&amp;to=production"');
  });

  it('filters each pair’s rows by status, keeping the other parameters', async () => {
    const res = await requestPage(api, '/audit?environments=staging,production&status=scale');
    const text = textOf(res.html);
    expect(text).toContain('staging → production promotion · parity');
    expect(text).toContain('1 of 2 differences');
    expect(text).toContain('hardware.cpu.cores 8 16 scale');
    expect(text).not.toContain('library.openssl 3.0.13 3.0.11 drift remediate');
    expect(res.html).toContain('href="/audit?environments=staging%2Cproduction&amp;status=open#pairs"');
  });

  it('answers bad parameters with the parameter named, unknown environments with 404', async () => {
    const status = await requestPage(api, '/audit?status=bogus');
    expect(status.status).toBe(400);
    expect(textOf(status.html)).toContain('status');
    const unknown = await requestPage(api, '/audit?environments=staging,qa');
    expect(unknown.status).toBe(404);
    expect(textOf(unknown.html)).toContain('unknown environment "qa"');
    const since = await requestPage(api, '/audit?since=1');
    expect(since.status).toBe(400);
    expect(textOf(since.html)).toContain('`since` needs `id`');
    const missing = await requestPage(api, '/audit?id=9');
    expect(missing.status).toBe(404);
    expect(textOf(missing.html)).toContain('unknown audit 9');
  });

  it('offers the Record form to admins only', async () => {
    const admin = await requestPage(api, '/audit');
    expect(admin.html).toContain('action="/audit/record"');
    const read = await requestPage(api, '/audit', { token: await readToken() });
    expect(read.status).toBe(200);
    expect(read.html).not.toContain('action="/audit/record"');
  });
});

describe('POST /audit/record', () => {
  it('records the audit with the session’s CSRF token, as the signed-in principal, and shows it', async () => {
    const { cookie, csrf } = await signIn(api, 'admin-token');
    const refused = await requestPage(api, '/audit/record', { token: null, cookie, form: { note: 'x' } });
    expect(refused.status).toBe(403);
    expect(textOf(refused.html)).toContain('CSRF');
    expect((await api.get('/api/v1/audits')).body.audits).toEqual([]);

    const posted = await requestPage(api, '/audit/record', {
      token: null,
      cookie,
      form: { _csrf: csrf, environments: 'staging,production', note: 'monthly <audit>' },
    });
    expect(posted.status).toBe(303);
    expect(posted.headers.get('location')).toBe('/audit?id=1');
    const list = await api.get('/api/v1/audits');
    expect(list.body.audits).toEqual([
      expect.objectContaining({
        id: 1,
        author: 'bootstrap admin token',
        environments: ['staging', 'production'],
        note: 'monthly <audit>',
      }),
    ]);
    const log = await api.get('/api/v1/audit-log');
    expect(log.body.entries[0]).toMatchObject({ action: 'audit.recorded', details: { id: 1 } });

    const shown = await requestPage(api, '/audit?id=1', { token: null, cookie });
    expect(shown.status).toBe(200);
    expect(shown.html).toContain('<title>Audit #1 · envparity</title>');
    expect(shown.html).toContain('monthly &lt;audit&gt;');
    expect(shown.html).not.toContain('action="/audit/record"');
    expect(textOf(shown.html)).toContain('Recorded 2025-01-01T12:00:00Z by bootstrap admin token');
  });

  it('needs the admin scope', async () => {
    const read = await requestPage(api, '/audit/record', { token: await readToken(), form: { note: 'x' } });
    expect(read.status).toBe(403);
    expect(textOf(read.html)).toContain('needs a token with the admin scope');
    expect((await api.get('/api/v1/audits')).body.audits).toEqual([]);
  });

  it('lists recorded audits with links to each and to what changed since the one before', async () => {
    await api.request('POST', '/api/v1/audits');
    for (const id of ['prod-1', 'prod-2', 'prod-3']) {
      await changeHost(api.aggregator.store, id, api.clock.now + 1000, { 'library.openssl': '3.0.13' });
    }
    await api.request('POST', '/api/v1/audits');
    const live = await requestPage(api, '/audit');
    expect(live.html).toContain('href="/audit?id=2&amp;since=1"');
    expect(live.html).toContain('href="/audit?id=1"');
    const since = await requestPage(api, '/audit?id=2&since=1');
    const text = textOf(since.html);
    expect(text).toContain('Since audit #1');
    expect(text).toContain('0 new, 1 remediated, 0 newly justified, 4 still open');
    expect(text).toContain(
      'remediated (1) pair path then now staging → production library.openssl drift 3.0.13 → 3.0.11 no difference',
    );
  });
});

describe('exports from pages', () => {
  it('GET /audit/export answers the renderer’s file with the session cookie', async () => {
    const { cookie } = await signIn(api, 'admin-token');
    const csv = await api.aggregator.app.request('/audit/export?format=csv&environments=staging,production', {
      headers: { cookie },
    });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(csv.headers.get('content-disposition')).toBe('attachment; filename="envparity-audit-2025-01-01.csv"');
    const lines = (await csv.text()).split('\r\n');
    expect(lines[0]).toMatch(/^pair_from,pair_to,/);
    expect(lines).toContain(
      'staging,production,promotion,library.openssl,library,3.0.13,3.0.11,drift,remediate or justify,,,,,',
    );
    expect(lines.filter((line) => line.startsWith('dev,'))).toEqual([]);

    const html = await api.aggregator.app.request('/audit/export?pairsWith=dev', { headers: { cookie } });
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const file = await html.text();
    expect(file).toContain('<h2 id="pair-1">dev → staging <small');
    expect(file).toContain('<h2 id="pair-2">dev → production <small');
    expect(file).not.toContain('<h2 id="pair-3">');

    await api.request('POST', '/api/v1/audits', { body: { note: 'first' } });
    const recorded = await api.aggregator.app.request('/audit/export?format=json&id=1', { headers: { cookie } });
    expect(recorded.headers.get('content-disposition')).toBe('attachment; filename="envparity-audit-2025-01-01.json"');
    expect(JSON.parse(await recorded.text())).toMatchObject({ schema: 'envparity/audit/v1', audit: { id: 1 } });

    const signedOut = await api.aggregator.app.request('/audit/export?format=csv');
    expect(signedOut.status).toBe(303);
    const bad = await requestPage(api, '/audit/export?format=pdf');
    expect(bad.status).toBe(400);
    expect(textOf(bad.html)).toContain('format');
  });

  it('the audit, compare and environment pages link to the exports', async () => {
    const audit = await requestPage(api, '/audit?environments=staging,production');
    expect(audit.html).toContain('href="/audit/export?format=csv&amp;environments=staging%2Cproduction"');
    const compare = await requestPage(api, '/compare?from=production&to=staging');
    expect(textOf(compare.html)).toContain('Export this pair’s audit: HTML · Markdown · JSON · CSV');
    expect(compare.html).toContain('href="/audit/export?format=markdown&amp;environments=production%2Cstaging"');
    const hosts = await requestPage(api, '/compare?from=host:prod-1&to=staging');
    expect(hosts.html).not.toContain('/audit/export');
    const environment = await requestPage(api, '/environments/production');
    expect(environment.html).toContain('href="/audit/export?format=html&amp;pairsWith=production"');
  });
});
