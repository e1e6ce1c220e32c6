import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROMOTION, seedFleet } from '../../../testing/drift-fleet.js';
import { ADMIN_TOKEN, createTestApi, type TestApi } from '../../../testing/test-api.js';
import { requestPage, signIn, textOf } from '../../../testing/test-dashboard.js';

let api: TestApi;
beforeEach(async () => {
  api = createTestApi({ promotion: PROMOTION });
  await seedFleet(api.aggregator.store);
});
afterEach(async () => {
  await api.aggregator.stop();
});

const HOUR = 3_600_000;

function justifyForm(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    from: 'staging',
    to: 'production',
    q: 'openssl',
    path: 'library.openssl',
    environments: 'staging,production',
    reason: 'production upgrades after the change freeze',
    impact: 'TLS ciphers differ',
    owner: 'platform-team',
    expiresAt: new Date(api.clock.now + 24 * HOUR).toISOString(),
    ...overrides,
  };
}

async function exceptions() {
  return (await api.get('/api/v1/exceptions')).body.exceptions;
}

describe('GET /compare/justify', () => {
  it('renders the form for the row: glob prefilled, the pair of environments, the filters to go back to', async () => {
    const res = await requestPage(api, '/compare/justify?from=staging&to=production&q=openssl&path=library.openssl');
    expect(res.status).toBe(200);
    expect(res.html).toContain('<title>Justify library.openssl · envparity</title>');
    expect(res.html).toContain('<form class="stack" method="post" action="/compare/justify">');
    expect(res.html).toMatch(/name="path" value="library.openssl" required=""/);
    expect(res.html).toMatch(/<textarea name="reason" rows="3" required="">/);
    expect(res.html).toContain('<input type="hidden" name="from" value="staging"/>');
    expect(res.html).toContain('<input type="hidden" name="q" value="openssl"/>');
    expect(res.html).toContain('<input type="hidden" name="environments" value="staging,production"/>');
    const text = textOf(res.html);
    expect(text).toContain('Environments: staging, production (differences between this pair)');
    expect(text).toContain('library.openssl 3.0.13 3.0.11 drift');
    expect(res.html).toContain('href="/compare?from=staging&amp;to=production&amp;q=openssl"');
  });

  it('takes the environments of host sides, one when both are in the same environment', async () => {
    const inside = await requestPage(api, '/compare/justify?from=host:prod-3&to=production&path=config.env.LOG_LEVEL');
    expect(textOf(inside.html)).toContain('Environments: production (differences inside this environment)');
    const across = await requestPage(api, '/compare/justify?from=host:stg-1&to=host:prod-1&path=library.openssl');
    expect(textOf(across.html)).toContain('Environments: staging, production');
  });

  it('needs the admin scope, a path and known sides', async () => {
    const { body } = await api.request('POST', '/api/v1/tokens', { body: { name: 'viewer', scope: 'read' } });
    const read = await requestPage(api, '/compare/justify?from=staging&to=production&path=library.openssl', {
      token: body.token,
    });
    expect(read.status).toBe(403);
    expect(textOf(read.html)).toContain('needs a token with the admin scope');
    const posted = await requestPage(api, '/compare/justify', { token: body.token, form: justifyForm() });
    expect(posted.status).toBe(403);
    expect(await exceptions()).toEqual([]);
    const noPath = await requestPage(api, '/compare/justify?from=staging&to=production');
    expect(noPath.status).toBe(400);
    expect(textOf(noPath.html)).toContain('query parameter `path` is required');
    const unknown = await requestPage(api, '/compare/justify?from=staging&to=qa&path=library.openssl');
    expect(unknown.status).toBe(404);
  });
});

describe('POST /compare/justify', () => {
  it('creates the exception as the API does, audits it and goes back to the compare, now justified', async () => {
    const before = textOf((await requestPage(api, '/compare?from=staging&to=production')).html);
    expect(before).toContain('94.1% parity: 16 of 17');
    const res = await requestPage(api, '/compare/justify', { form: justifyForm() });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/compare?from=staging&to=production&q=openssl');

    const [created] = await exceptions();
    expect(created).toMatchObject({
      path: 'library.openssl',
      environments: ['staging', 'production'],
      reason: 'production upgrades after the change freeze',
      impact: 'TLS ciphers differ',
      owner: 'platform-team',
      expiresAt: new Date(api.clock.now + 24 * HOUR).toISOString(),
      createdAt: new Date(api.clock.now).toISOString(),
      createdBy: 'bootstrap admin token',
      source: 'api',
    });
    const audit = (await api.get('/api/v1/audit-log')).body.entries;
    expect(audit[0]).toMatchObject({
      action: 'exception.created',
      actor: 'bootstrap',
      details: { id: created.id, path: 'library.openssl', environments: ['staging', 'production'] },
    });

    const after = await requestPage(api, res.headers.get('location') ?? '');
    const text = textOf(after.html);
    expect(text).toContain('100.0% parity: 17 of 17 behavior paths equal or justified');
    expect(text).toContain(
      'library.openssl 3.0.13 3.0.11 justified production upgrades after the change freeze owner platform-team · expires 2025-01-02T12:00:00Z ( in 1 d ) · glob library.openssl',
    );
    expect(after.html).not.toContain('/compare/justify');
  });

  it('reads a datetime-local expiry as UTC and leaves empty optional fields out', async () => {
    const res = await requestPage(api, '/compare/justify', {
      form: justifyForm({ expiresAt: '2025-03-01T08:30', impact: '', owner: '  ', path: 'library.*' }),
    });
    expect(res.status).toBe(303);
    const [created] = await exceptions();
    expect(created.expiresAt).toBe('2025-03-01T08:30:00.000Z');
    expect(created.path).toBe('library.*');
    expect(created).not.toHaveProperty('impact');
    expect(created).not.toHaveProperty('owner');
  });

  it('shows the form again with the message and what was typed when the request is refused', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ reason: '   ' }, '`reason` must not be empty'],
      [{ path: 'library..openssl' }, '`path` is not a valid path glob'],
      [{ expiresAt: new Date(api.clock.now - HOUR).toISOString() }, '`expiresAt` must be in the future'],
      [{ expiresAt: 'tomorrow' }, 'must be an ISO 8601 time'],
      [{ environments: 'staging,nope' }, 'unknown environment "nope"'],
    ];
    for (const [overrides, message] of cases) {
      const res = await requestPage(api, '/compare/justify', {
        form: justifyForm({ owner: 'team <x> & co', ...overrides }),
      });
      expect(res.status, message).toBe(400);
      const text = textOf(res.html);
      expect(text, message).toContain(message);
      expect(text).not.toContain('invalid body');
      expect(res.html).toContain('name="owner" value="team &lt;x&gt; &amp; co"');
      expect(res.html).toContain('<input type="hidden" name="q" value="openssl"/>');
      if (overrides.path) expect(res.html).toContain(`name="path" value="${overrides.path}"`);
      if (overrides.environments) expect(res.html).toContain(`name="environments" value="${overrides.environments}"`);
    }
    expect(await exceptions()).toEqual([]);
  });

  it('with a session, needs the CSRF token of the form', async () => {
    const { cookie, csrf } = await signIn(api, ADMIN_TOKEN);
    const page = await requestPage(api, '/compare/justify?from=staging&to=production&path=library.openssl', {
      token: null,
      cookie,
    });
    expect(page.html).toContain(`name="_csrf" value="${csrf}"`);
    const forged = await requestPage(api, '/compare/justify', { token: null, cookie, form: justifyForm() });
    expect(forged.status).toBe(403);
    expect(await exceptions()).toEqual([]);
    const res = await requestPage(api, '/compare/justify', {
      token: null,
      cookie,
      form: { ...justifyForm(), _csrf: csrf },
    });
    expect(res.status).toBe(303);
    expect(await exceptions()).toHaveLength(1);
  });
});
