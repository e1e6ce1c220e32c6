import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { changeHost, PROMOTION, seedFleet } from '../../testing/drift-fleet.js';
import { ADMIN_TOKEN, createTestApi, type TestApi } from '../../testing/test-api.js';

let api: TestApi;
beforeEach(async () => {
  api = createTestApi({ promotion: PROMOTION });
  await seedFleet(api.aggregator.store);
});
afterEach(async () => {
  await api.aggregator.stop();
});

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

async function readToken(): Promise<string> {
  const { body } = await api.request('POST', '/api/v1/tokens', { body: { name: 'viewer', scope: 'read' } });
  return body.token;
}

async function justify(path: string, environments: string[], expiresInMs?: number, owner = 'platform-team') {
  const { status, body } = await api.request('POST', '/api/v1/exceptions', {
    body: {
      path,
      environments,
      reason: `documented ${path}`,
      owner,
      ...(expiresInMs !== undefined ? { expiresAt: new Date(api.clock.now + expiresInMs).toISOString() } : {}),
    },
  });
  expect(status).toBe(201);
  return body.id as string;
}

/** Raw answer (non-JSON formats bypass the JSON schema check of the helper). */
async function raw(path: string, token: string = ADMIN_TOKEN) {
  const res = await api.aggregator.app.request(path, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

describe('GET /api/v1/audit', () => {
  it('audits every pair: promotion neighbours first, then the others, each as compare judges it', async () => {
    const { status, body } = await api.get('/api/v1/audit', await readToken());
    expect(status).toBe(200);
    expect(body.schema).toBe('envparity/audit/v1');
    expect(body.generatedAt).toBe(new Date(api.clock.now).toISOString());
    expect(body.environments).toEqual(['dev', 'staging', 'production']);
    expect(
      body.pairs.map((pair: { from: string; to: string; kind: string }) => [pair.from, pair.to, pair.kind]),
    ).toEqual([
      ['dev', 'staging', 'promotion'],
      ['staging', 'production', 'promotion'],
      ['dev', 'production', 'other'],
    ]);
    const compare = await api.get('/api/v1/compare?from=staging&to=production');
    const pair = body.pairs[1];
    expect(pair.parity).toBe(compare.body.parity);
    expect(pair.compared).toBe(compare.body.compared);
    expect(pair.differences).toEqual([
      {
        path: 'hardware.cpu.cores',
        category: 'hardware',
        from: 8,
        to: 16,
        status: 'scale',
        action: null,
      },
      {
        path: 'library.openssl',
        category: 'library',
        from: '3.0.13',
        to: '3.0.11',
        status: 'drift',
        action: 'remediate or justify',
      },
    ]);
    expect(pair.counts).toEqual({ drift: 1, expired: 0, expiring: 0, justified: 0, scale: 1 });
    // dev -> staging: openssl and LOG_LEVEL drift, cores scale; dev -> production the same three.
    expect(body.summary.counts).toEqual({ drift: 5, expired: 0, expiring: 0, justified: 0, scale: 3 });
    expect(body.summary.open).toBe(5);
    expect(body.summary.pairs[0]).toEqual({
      from: 'dev',
      to: 'staging',
      kind: 'promotion',
      parity: body.pairs[0].parity,
      compared: body.pairs[0].compared,
      counts: body.pairs[0].counts,
    });
  });

  it('groups the summary by cause: one row for a difference several pairs share, outlier hosts by shared difference', async () => {
    const { body } = await api.get('/api/v1/audit');
    const logLevel = body.summary.causes.find((cause: { path: string }) => cause.path === 'config.env.LOG_LEVEL');
    expect(logLevel).toEqual({
      path: 'config.env.LOG_LEVEL',
      category: 'config',
      from: 'debug',
      to: 'info',
      status: 'drift',
      pairs: [
        { from: 'dev', to: 'staging', status: 'drift' },
        { from: 'dev', to: 'production', status: 'drift' },
      ],
    });
    // openssl differs by other values in each pair: three rows.
    expect(body.summary.causes.filter((cause: { path: string }) => cause.path === 'library.openssl')).toHaveLength(3);
    const production = body.summary.outliers.find(
      (entry: { environment: string }) => entry.environment === 'production',
    );
    expect(production).toMatchObject({ environment: 'production', hosts: 3, outlierHosts: 1, totalGroups: 1 });
    expect(production.groups).toEqual([
      {
        path: 'config.env.LOG_LEVEL',
        category: 'config',
        expected: 'info',
        actual: 'warn',
        status: 'drift',
        action: 'remediate or justify',
        hostCount: 1,
        hosts: ['prod-3'],
      },
    ]);
  });

  it('classifies justified, expiring (6 days) vs justified (8 days), and expired differences', async () => {
    const soon = await justify('library.*', ['staging', 'production'], 6 * DAY);
    await justify('library.openssl', ['dev', 'staging'], 8 * DAY);
    const lapsing = await justify('config.env.LOG_LEVEL', ['dev', 'staging'], HOUR, 'app-team');
    api.clock.now += 2 * HOUR;
    const { body } = await api.get('/api/v1/audit');
    const [devStaging, stagingProduction, devProduction] = body.pairs;
    const status = (pair: { differences: { path: string; status: string }[] }, path: string) =>
      pair.differences.find((difference) => difference.path === path)?.status;
    expect(status(stagingProduction, 'library.openssl')).toBe('expiring');
    expect(stagingProduction.differences.find((d: { path: string }) => d.path === 'library.openssl')).toMatchObject({
      action: 'renew',
      exception: {
        id: soon,
        path: 'library.*',
        environments: ['staging', 'production'],
        reason: 'documented library.*',
        owner: 'platform-team',
        expiresAt: new Date(api.clock.now - 2 * HOUR + 6 * DAY).toISOString(),
      },
    });
    expect(status(devStaging, 'library.openssl')).toBe('justified');
    expect(devStaging.differences.find((d: { path: string }) => d.path === 'config.env.LOG_LEVEL')).toMatchObject({
      status: 'expired',
      action: 'remediate or justify',
      exception: { id: lapsing, owner: 'app-team' },
    });
    // The lapsed exception named dev and staging only: dev -> production is plain drift.
    expect(status(devProduction, 'config.env.LOG_LEVEL')).toBe('drift');
    expect(status(devProduction, 'library.openssl')).toBe('drift');
    expect(body.summary.counts).toEqual({ drift: 2, expired: 1, expiring: 1, justified: 1, scale: 3 });
    expect(body.summary.open).toBe(3);
  });

  it('audits the named environments only, and only pairs with one environment when asked', async () => {
    const two = await api.get('/api/v1/audit?environments=production,staging');
    expect(two.status).toBe(200);
    expect(two.body.environments).toEqual(['staging', 'production']);
    expect(two.body.pairs.map((pair: { from: string }) => pair.from)).toEqual(['staging']);
    expect(two.body.summary.outliers.map((entry: { environment: string }) => entry.environment)).toEqual([
      'staging',
      'production',
    ]);
    const withDev = await api.get('/api/v1/audit?pairsWith=dev');
    expect(withDev.body.pairsWith).toBe('dev');
    expect(withDev.body.pairs.map((pair: { from: string; to: string }) => `${pair.from}>${pair.to}`)).toEqual([
      'dev>staging',
      'dev>production',
    ]);
    expect(withDev.body.summary.outliers.map((entry: { environment: string }) => entry.environment)).toEqual(['dev']);
  });

  it('answers 404 naming unknown environments and 400 for fewer than two or a malformed list', async () => {
    const one = await api.get('/api/v1/audit?environments=staging,qa');
    expect(one.status).toBe(404);
    expect(one.body.error.message).toContain('unknown environment "qa"');
    const several = await api.get('/api/v1/audit?environments=staging,qa,uat');
    expect(several.status).toBe(404);
    expect(several.body.error.message).toContain('"qa", "uat"');
    const single = await api.get('/api/v1/audit?environments=staging,staging');
    expect(single.status).toBe(400);
    expect(single.body.error.message).toContain('`environments`: an audit compares pairs');
    const malformed = await api.get('/api/v1/audit?environments=staging,pro%20d');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.message).toContain('environments');
    const format = await api.get('/api/v1/audit?format=pdf');
    expect(format.status).toBe(400);
    expect(format.body.error.message).toContain('format');
    const pairsWith = await api.get('/api/v1/audit?environments=staging,production&pairsWith=dev');
    expect(pairsWith.status).toBe(400);
    expect(pairsWith.body.error.message).toContain('`pairsWith`');
    expect((await api.get('/api/v1/audit', null)).status).toBe(401);
  });

  it('needs two environments with reporting hosts by default', async () => {
    const empty = createTestApi({ promotion: PROMOTION });
    try {
      const { status, body } = await empty.get('/api/v1/audit');
      expect(status).toBe(400);
      expect(body.error.message).toContain('no environment has hosts reporting facts');
    } finally {
      await empty.aggregator.stop();
    }
  });

  it('exports markdown, html and csv as attachments named by date; json stays the document', async () => {
    const date = new Date(api.clock.now).toISOString().slice(0, 10);
    const markdown = await raw('/api/v1/audit?format=markdown');
    expect(markdown.status).toBe(200);
    expect(markdown.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
    expect(markdown.headers.get('content-disposition')).toBe(`attachment; filename="envparity-audit-${date}.md"`);
    expect(markdown.text).toContain('## staging → production (promotion), parity');
    expect(markdown.text).toContain('| library.openssl | 3.0.13 | 3.0.11 | drift | remediate or justify |  |');
    const html = await raw('/api/v1/audit?format=html');
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(html.headers.get('content-disposition')).toBe(`attachment; filename="envparity-audit-${date}.html"`);
    expect(html.text).toMatch(/^<!doctype html>/);
    const csv = await raw('/api/v1/audit?format=csv');
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(csv.headers.get('content-disposition')).toBe(`attachment; filename="envparity-audit-${date}.csv"`);
    expect(csv.text.split('\r\n')).toContain(
      'staging,production,promotion,library.openssl,library,3.0.13,3.0.11,drift,remediate or justify,,,,,',
    );
    const json = await raw('/api/v1/audit?format=json');
    expect(json.headers.get('content-type')).toContain('application/json');
    expect(json.headers.get('content-disposition')).toBeNull();
    expect(JSON.parse(json.text).schema).toBe('envparity/audit/v1');
  });
});

describe('recorded audits', () => {
  it('POST records the live audit as the principal (admin only, in the audit log); GET lists them newest first', async () => {
    const read = await readToken();
    const refused = await api.request('POST', '/api/v1/audits', { token: read });
    expect(refused.status).toBe(403);
    const first = await api.request('POST', '/api/v1/audits');
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      id: 1,
      at: new Date(api.clock.now).toISOString(),
      author: 'bootstrap admin token',
      environments: ['dev', 'staging', 'production'],
      summary: { open: 5, counts: { drift: 5, scale: 3 } },
    });
    api.clock.now += HOUR;
    const second = await api.request('POST', '/api/v1/audits', {
      body: { environments: ['staging', 'production'], note: 'monthly audit' },
    });
    expect(second.status).toBe(201);
    expect(second.body).toMatchObject({ id: 2, environments: ['staging', 'production'], note: 'monthly audit' });
    const log = await api.get('/api/v1/audit-log');
    const recorded = log.body.entries.filter((entry: { action: string }) => entry.action === 'audit.recorded');
    expect(
      recorded.map((entry: { actor: string; details: { id: number } }) => [entry.actor, entry.details.id]),
    ).toEqual([
      ['bootstrap', 2],
      ['bootstrap', 1],
    ]);
    const list = await api.get('/api/v1/audits', read);
    expect(list.status).toBe(200);
    expect(list.body.truncated).toBe(false);
    expect(list.body.audits.map((audit: { id: number }) => audit.id)).toEqual([2, 1]);
    expect(list.body.audits[0]).toMatchObject({
      id: 2,
      at: new Date(api.clock.now).toISOString(),
      author: 'bootstrap admin token',
      note: 'monthly audit',
      open: 1,
      counts: { drift: 1, scale: 1 },
      pairs: [{ from: 'staging', to: 'production', kind: 'promotion' }],
    });
    const paged = await api.get('/api/v1/audits?limit=1');
    expect(paged.body.audits.map((audit: { id: number }) => audit.id)).toEqual([2]);
    expect(paged.body.truncated).toBe(true);
    const next = await api.get('/api/v1/audits?limit=1&before=2');
    expect(next.body.audits.map((audit: { id: number }) => audit.id)).toEqual([1]);
    expect(next.body.truncated).toBe(false);
  });

  it('refuses a bad body with a message naming the field, and unknown environments with a 404', async () => {
    const notJson = await api.request('POST', '/api/v1/audits', { body: '{oops' });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.message).toContain('invalid body');
    const unknownField = await api.request('POST', '/api/v1/audits', { body: { environment: 'staging' } });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.error.message).toContain('environment');
    const badNote = await api.request('POST', '/api/v1/audits', { body: { note: 42 } });
    expect(badNote.status).toBe(400);
    expect(badNote.body.error.message).toContain('`note`');
    const unknown = await api.request('POST', '/api/v1/audits', { body: { environments: ['staging', 'qa'] } });
    expect(unknown.status).toBe(404);
    expect((await api.get('/api/v1/audits')).body.audits).toEqual([]);
  });

  it('GET /audits/:id gives the report as recorded, whatever changed since; 404 names unknown ids', async () => {
    await api.request('POST', '/api/v1/audits', { body: { note: 'before the upgrade' } });
    for (const id of ['prod-1', 'prod-2', 'prod-3']) {
      await changeHost(api.aggregator.store, id, api.clock.now + 1000, { 'library.openssl': '3.0.13' });
    }
    const live = await api.get('/api/v1/audit');
    expect(live.body.pairs[1].differences.map((d: { path: string }) => d.path)).toEqual(['hardware.cpu.cores']);
    const recorded = await api.get('/api/v1/audits/1');
    expect(recorded.status).toBe(200);
    expect(recorded.body).toMatchObject({
      schema: 'envparity/audit/v1',
      audit: { id: 1, at: new Date(api.clock.now).toISOString(), author: 'bootstrap admin token' },
      note: 'before the upgrade',
    });
    expect(recorded.body.pairs[1].differences.map((d: { path: string }) => d.path)).toEqual([
      'hardware.cpu.cores',
      'library.openssl',
    ]);
    const unknown = await api.get('/api/v1/audits/99');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toContain('unknown audit 99');
    const unknownSince = await api.get('/api/v1/audits/1?since=98');
    expect(unknownSince.status).toBe(404);
    expect(unknownSince.body.error.message).toContain('unknown audit 98 (query parameter `since`)');
    const badId = await api.get('/api/v1/audits/abc');
    expect(badId.status).toBe(400);
    expect(badId.body.error.message).toContain('id');
  });

  it('?since says what is new, remediated, newly justified and still open', async () => {
    await api.request('POST', '/api/v1/audits');
    for (const id of ['prod-1', 'prod-2', 'prod-3']) {
      await changeHost(api.aggregator.store, id, api.clock.now + 1000, { 'library.openssl': '3.0.13' });
    }
    for (const id of ['stg-1', 'stg-2']) {
      await changeHost(api.aggregator.store, id, api.clock.now + 1000, { 'runtime.node': '20.12.0' });
    }
    await justify('config.env.LOG_LEVEL', ['dev', 'staging']);
    api.clock.now += DAY;
    await api.request('POST', '/api/v1/audits');
    const { status, body } = await api.get('/api/v1/audits/2?since=1');
    expect(status).toBe(200);
    expect(body.since.audit).toBe(1);
    const keys = (list: { from: string; to: string; path: string }[]) =>
      list.map((change) => `${change.from}>${change.to} ${change.path}`);
    expect(keys(body.since.new)).toEqual(['dev>staging runtime.node', 'staging>production runtime.node']);
    expect(keys(body.since.remediated)).toEqual(['staging>production library.openssl']);
    expect(keys(body.since.newlyJustified)).toEqual(['dev>staging config.env.LOG_LEVEL']);
    expect(keys(body.since.stillOpen)).toEqual([
      'dev>staging library.openssl',
      'dev>production config.env.LOG_LEVEL',
      'dev>production library.openssl',
    ]);
    expect(body.since.counts).toEqual({ new: 2, remediated: 1, newlyJustified: 1, stillOpen: 3 });
    expect(body.since.remediated[0]).toEqual({
      from: 'staging',
      to: 'production',
      path: 'library.openssl',
      category: 'library',
      earlier: { status: 'drift', from: '3.0.13', to: '3.0.11' },
    });
    expect(body.since.newlyJustified[0].later).toMatchObject({ status: 'justified', exception: { expiresAt: null } });
    const markdown = await raw('/api/v1/audits/2?since=1&format=markdown');
    expect(markdown.text).toContain('## Since audit #1');
    expect(markdown.text).toContain('2 new, 1 remediated, 1 newly justified, 3 still open.');
    expect(markdown.headers.get('content-disposition')).toBe(
      `attachment; filename="envparity-audit-${new Date(api.clock.now).toISOString().slice(0, 10)}.md"`,
    );
  });
});

describe('the OpenAPI document', () => {
  it('declares the audit routes with their scopes, the format parameter and the audit document schema', async () => {
    const { body } = await api.get('/api/v1/openapi.json');
    const live = body.paths['/api/v1/audit'].get;
    expect(live['x-envparity-scope']).toBe('read');
    const format = live.parameters.find((parameter: { name: string }) => parameter.name === 'format');
    expect(format.schema.enum).toEqual(['json', 'markdown', 'html', 'csv']);
    const document = live.responses['200'].content['application/json'].schema;
    expect(document.properties.schema.const).toBe('envparity/audit/v1');
    expect(body.paths['/api/v1/audits'].post['x-envparity-scope']).toBe('admin');
    expect(body.paths['/api/v1/audits/{id}'].get.parameters.map((p: { name: string }) => p.name)).toEqual([
      'id',
      'since',
      'format',
    ]);
  });
});
