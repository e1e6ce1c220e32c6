/**
 * The dashboard in a real browser (issue 12 req 12): Debian's Chromium driven by playwright-core
 * against a real aggregator process and two real agents (staging and production) on 127.0.0.1.
 * The agents differ in a planned way: a feature flag and a database password (a secret, reported
 * as a keyed hash). The walk: sign in with a read token (it sees, it cannot justify), then with an
 * admin token: overview -> compare -> justify the flag -> justified and parity up -> host page ->
 * its timeline shows a config-file edit made during the test. Posts without the CSRF token are
 * refused, and the clear password never appears in any page. Screenshots land in test/artifacts/.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSupport, launchBrowser, screenshot } from './helpers/browser.js';
import {
  type AggregatorHandle,
  cleanupProcesses,
  makeTempDir,
  startAgent,
  startAggregator,
  waitFor,
} from './helpers/index.js';

const support = browserSupport();
const CANARY = {
  staging: 'canary-staging-password-7d1f',
  production: 'canary-production-password-93ab',
};
const FLAG = 'config.env.FEATURE_CHECKOUT';

describe.skipIf(!support.ok)('the dashboard in Chromium', () => {
  let aggregator: AggregatorHandle;
  let browser: Browser;
  let appConfig: string;
  let readToken: string;
  /** HTML of every page visited, for the canary check at the end. */
  const pages: { url: string; html: string }[] = [];

  beforeAll(async () => {
    const dir = await makeTempDir('envparity-dashboard-');
    const configFile = join(dir, 'aggregator.yaml');
    await writeFile(configFile, 'promotion: [staging, production]\n');
    aggregator = await startAggregator({ args: ['--config', configFile] });
    appConfig = join(dir, 'app.yaml');
    await writeFile(appConfig, 'db:\n  pool: 5\n');
    const agentConfig = {
      watch: { envVars: ['FEATURE_*', 'DB_PASSWORD'], files: [appConfig] },
      secrets: ['*PASSWORD*'],
    };
    await Promise.all([
      startAgent({
        aggregatorUrl: aggregator.url,
        hostId: 'stg-1',
        environment: 'staging',
        config: agentConfig,
        env: { FEATURE_CHECKOUT: 'v2', DB_PASSWORD: CANARY.staging },
      }),
      startAgent({
        aggregatorUrl: aggregator.url,
        hostId: 'prod-1',
        environment: 'production',
        config: agentConfig,
        env: { FEATURE_CHECKOUT: 'v1', DB_PASSWORD: CANARY.production },
      }),
    ]);
    await waitFor(
      async () => {
        const hosts = await aggregator.json<{ hosts: { id: string }[] }>('/api/v1/hosts');
        return hosts.hosts.length === 2;
      },
      { timeoutMs: 30_000, message: 'both hosts reporting' },
    );
    const created = await aggregator.api('/api/v1/tokens', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'dashboard-reader', scope: 'read' }),
    });
    readToken = ((await created.json()) as { token: string }).token;
    browser = await launchBrowser();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await cleanupProcesses();
  });

  async function visit(page: Page, path: string): Promise<void> {
    const response = await page.goto(new URL(path, aggregator.url).toString());
    expect(response?.status(), path).toBeLessThan(400);
    pages.push({ url: page.url(), html: await page.content() });
  }

  async function signIn(context: BrowserContext, token: string): Promise<Page> {
    const page = await context.newPage();
    await page.goto(new URL('/', aggregator.url).toString());
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.getByLabel(/API token/).fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.pathname === '/');
    return page;
  }

  it('a read token sees everything and can justify nothing', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await signIn(context, readToken);
    await expect.poll(() => page.getByText('dashboard-reader (read)').count()).toBe(1);
    await visit(page, '/compare?from=staging&to=production');
    await expect.poll(() => page.getByText(FLAG, { exact: true }).count()).toBeGreaterThan(0);
    expect(await page.getByRole('link', { name: 'Justify' }).count()).toBe(0);
    // Posting the justify form anyway (a crafted request with the session's own CSRF token) is refused.
    const csrf = await page.locator('input[name="_csrf"]').first().getAttribute('value');
    const refused = await page.request.post(new URL('/compare/justify', aggregator.url).toString(), {
      form: { _csrf: csrf ?? '', from: 'staging', to: 'production', path: FLAG, reason: 'sneaky' },
    });
    expect(refused.status()).toBe(403);
    await screenshot(page, 'compare-read-token');
    await context.close();
  });

  it('an admin walks overview -> compare -> justify -> host page -> timeline', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await signIn(context, aggregator.adminToken);
    pages.push({ url: page.url(), html: await page.content() });
    await expect.poll(() => page.locator('table.matrix').count()).toBe(1);
    await screenshot(page, 'overview');

    // The matrix cell opens the compare of that pair.
    await page.locator('table.matrix a[href="/compare?from=staging&to=production"]').click();
    await page.waitForURL((url) => url.pathname === '/compare');
    const parityBefore = await parityOnPage(page);
    expect(parityBefore).toBeLessThan(100);
    pages.push({ url: page.url(), html: await page.content() });
    await screenshot(page, 'compare-before');

    // A CSRF-less post with the admin session is refused.
    const forged = await page.request.post(new URL('/compare/justify', aggregator.url).toString(), {
      form: { from: 'staging', to: 'production', path: FLAG, reason: 'forged' },
    });
    expect(forged.status()).toBe(403);

    const row = page.locator('tr', { has: page.getByText(FLAG, { exact: true }) });
    await row.getByRole('link', { name: 'Justify' }).click();
    await page.waitForURL((url) => url.pathname === '/compare/justify');
    await screenshot(page, 'justify-form');
    await page.getByLabel(/Reason/).fill('checkout v2 is being trialled in staging');
    await page.getByLabel(/Owner/).fill('team-checkout');
    await page.getByRole('button', { name: /Justify|Create/ }).click();
    await page.waitForURL((url) => url.pathname === '/compare');
    const justifiedRow = page.locator('tr', { has: page.getByText(FLAG, { exact: true }) });
    await expect.poll(() => justifiedRow.getByText('justified').count()).toBeGreaterThan(0);
    expect(await justifiedRow.textContent()).toContain('checkout v2 is being trialled in staging');
    expect(await parityOnPage(page)).toBeGreaterThan(parityBefore);
    pages.push({ url: page.url(), html: await page.content() });
    await screenshot(page, 'compare-after');

    // An edit of the watched config file during the test shows in the host's timeline, live (no reload).
    await visit(page, '/hosts/prod-1');
    expect(await page.locator('#host-changes').textContent()).not.toContain('.db.pool');
    await writeFile(appConfig, 'db:\n  pool: 12\n');
    const change = page.locator('#host-changes tr', { hasText: '.db.pool' });
    await expect.poll(() => change.count(), { timeout: 30_000, interval: 500 }).toBeGreaterThan(0);
    const changeText = (await change.first().textContent()) ?? '';
    expect(changeText).toContain('5');
    expect(changeText).toContain('12');
    pages.push({ url: page.url(), html: await page.content() });
    await screenshot(page, 'host-page');

    for (const path of [
      '/hosts',
      '/drift',
      '/promotion',
      '/audit',
      '/exceptions',
      '/environments/production',
      `/facts?path=${encodeURIComponent(FLAG)}`,
    ]) {
      await visit(page, path);
      await screenshot(page, path.replace(/[^a-z]+/g, '-').replace(/^-|-$/g, '') || 'root');
    }
    await context.close();
  });

  it('refreshes the overview live, within 5 s of a change, without a reload', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await signIn(context, aggregator.adminToken);
    // Page-side code as text: the test tsconfig has no DOM types.
    await page.evaluate('window.notReloaded = true');
    const expiring = () => page.locator('#overview-activity').textContent();
    expect(await expiring()).toContain('0 expiring within 7 days');
    const created = await aggregator.api('/api/v1/exceptions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        path: 'config.env.DB_PASSWORD',
        environments: ['staging', 'production'],
        reason: 'each environment has its own database',
        expiresAt: new Date(Date.now() + 3 * 24 * 3600 * 1000).toISOString(),
      }),
    });
    expect(created.status).toBe(201);
    const changedAt = Date.now();
    await expect.poll(expiring, { timeout: 5_000, interval: 200 }).toContain('1 expiring within 7 days');
    expect(Date.now() - changedAt).toBeLessThan(5_000);
    expect(await page.evaluate('window.notReloaded === true')).toBe(true);
    await context.close();
  });

  it('stops live refresh and says so when the session ends (its token revoked)', async () => {
    const created = await aggregator.api('/api/v1/tokens', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'short-lived', scope: 'read' }),
    });
    const token = (await created.json()) as { token: string; id: string };
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await signIn(context, token.token);
    const notice = page.getByText('Live refresh stopped: your session ended.');
    expect(await notice.count()).toBe(0);
    expect((await aggregator.api(`/api/v1/tokens/${token.id}`, { method: 'DELETE' })).status).toBe(200);
    await expect.poll(() => notice.count(), { timeout: 8_000, interval: 200 }).toBe(1);
    await screenshot(page, 'live-refresh-signed-out');
    await context.close();
  });

  it('works with JavaScript disabled: sign-in, pages and filters', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, javaScriptEnabled: false });
    const page = await signIn(context, readToken);
    await visit(page, `/compare?from=staging&to=production&q=${encodeURIComponent('FEATURE')}`);
    expect(await page.getByText(FLAG, { exact: true }).count()).toBeGreaterThan(0);
    expect(await page.getByText('config.env.DB_PASSWORD', { exact: true }).count()).toBe(0);
    await visit(page, '/hosts?env=production');
    expect(await page.getByRole('link', { name: 'prod-1' }).count()).toBeGreaterThan(0);
    expect(await page.getByRole('link', { name: 'stg-1' }).count()).toBe(0);
    await context.close();
  });

  it('fits a phone: no page scrolls sideways (wide tables scroll inside themselves)', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    const page = await signIn(context, aggregator.adminToken);
    for (const path of [
      '/',
      '/compare?from=staging&to=production',
      '/hosts',
      '/hosts/prod-1',
      '/drift',
      '/promotion',
      '/audit',
      '/exceptions',
      '/environments/production',
    ]) {
      await visit(page, path);
      const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
      expect(overflow, path).toBeLessThanOrEqual(0);
      await screenshot(page, `phone${path.replace(/[^a-z0-9]+/g, '-')}`);
    }
    await context.close();
  });

  it('no page, cookie or log line holds the clear secret', async () => {
    expect(pages.length).toBeGreaterThan(8);
    for (const { url, html } of pages) {
      expect(html, url).not.toContain(CANARY.staging);
      expect(html, url).not.toContain(CANARY.production);
    }
    // The secret is shown as a hash, labelled.
    const compare = pages.find((p) => p.url.includes('/compare?from=staging'));
    expect(compare?.html).toContain('secret, compared by hash');
    for (const line of aggregator.logs) {
      expect(line).not.toContain(CANARY.staging);
      expect(line).not.toContain(aggregator.adminToken);
      expect(line).not.toContain(readToken);
    }
  });
});

async function parityOnPage(page: Page): Promise<number> {
  const text = (await page.locator('[data-parity]').first().getAttribute('data-parity')) ?? '';
  return Number(text);
}
