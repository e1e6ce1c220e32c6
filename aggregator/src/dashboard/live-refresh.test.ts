import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addHost, seedFleet, serverFacts } from '../../testing/drift-fleet.js';
import { createTestApi, type TestApi } from '../../testing/test-api.js';
import { requestPage } from '../../testing/test-dashboard.js';
import { LIVE_SCRIPT_ASSET } from './assets.js';

let api: TestApi;
beforeEach(async () => {
  api = createTestApi();
  await seedFleet(api.aggregator.store);
});
afterEach(async () => {
  await api.aggregator.stop();
});

const live = (headers: Record<string, string> = {}) =>
  requestPage(api, '/hosts?env=staging', { headers: { 'x-envparity-live': '1', ...headers } });

describe('live refresh', () => {
  it('answers an unchanged poll with a bodiless 304 and a changed one with the new content', async () => {
    const first = await live();
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag') ?? '';
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    const same = await live({ 'if-none-match': etag });
    expect(same.status).toBe(304);
    expect(same.html).toBe('');
    await addHost(api.aggregator.store, 'stg-9', 'staging', serverFacts('stg-9'));
    const changed = await live({ 'if-none-match': etag });
    expect(changed.status).toBe(200);
    expect(changed.html).toContain('stg-9');
    expect(changed.headers.get('etag')).not.toBe(etag);
    // A whole page (no live header) never answers 304.
    expect((await requestPage(api, '/hosts?env=staging', { headers: { 'if-none-match': etag } })).status).toBe(200);
  });

  it('ships a script that stops and says so when the session ends, and keeps what the user toggled', () => {
    expect(LIVE_SCRIPT_ASSET.body).toContain('response.status === 401');
    expect(LIVE_SCRIPT_ASSET.body).toContain('Reload the page to sign in again');
    expect(LIVE_SCRIPT_ASSET.body).toContain("'If-None-Match'");
    expect(LIVE_SCRIPT_ASSET.body).toContain('details.open = open');
  });
});
