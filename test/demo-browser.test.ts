/**
 * The demo as a new user meets it (issue 12 reqs 13 and 14): `npm run demo` prints a one-click
 * sign-in link; opened in Chromium it lands signed in on the overview of the simulated
 * dev -> staging -> production fleet. The overview screenshot is the README's
 * (`ENVPARITY_UPDATE_DOCS_SCREENSHOT=1` copies it to docs/dashboard-overview.png); the other pages
 * are saved to test/artifacts/ to be looked at.
 */

import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { browserSupport, launchBrowser, screenshot } from './helpers/browser.js';
import { cleanupProcesses, REPO_ROOT, spawnManaged, waitFor } from './helpers/index.js';

const support = browserSupport();

describe.skipIf(!support.ok)('npm run demo in Chromium', () => {
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
    await cleanupProcesses();
  });

  it('signs in from the printed link and shows the fleet with its planted drift', async () => {
    const demo = spawnManaged(process.execPath, [join(REPO_ROOT, 'scripts', 'demo.js')], {
      env: {
        ...process.env,
        PORT: '0',
        ENVPARITY_DEMO_HOSTS: '120',
        ENVPARITY_ADMIN_TOKEN: '',
        ENVPARITY_ENROLL_SECRET: '',
      },
      name: 'npm run demo',
    });
    await waitFor(() => demo.logs.find((line) => line.startsWith('ready ')) ?? (demo.running ? undefined : 'exited'), {
      timeoutMs: 90_000,
      message: 'the ready line',
    });
    const link = demo.logs.find((line) => line.startsWith('Dashboard: '))?.slice('Dashboard: '.length) ?? '';
    expect(link).toContain('/login?code=');

    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    // The link shows a button (a link scanner's GET uses nothing up); its post signs in and
    // moves on to the overview, a same-origin step, so the SameSite=Strict cookie is sent.
    await page.goto(link);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.pathname === '/', { timeout: 10_000 });
    for (const name of ['dev', 'staging', 'production']) {
      expect(await page.locator('article.card h3 a', { hasText: name }).count(), name).toBe(1);
    }
    // The planted emergency change opens drift within seconds; the live region shows it without a reload.
    await expect
      .poll(() => page.locator('#overview-activity table tbody tr').count(), { timeout: 30_000, interval: 500 })
      .toBeGreaterThan(0);
    const overview = await screenshot(page, 'demo-overview');
    if (process.env.ENVPARITY_UPDATE_DOCS_SCREENSHOT === '1') {
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.screenshot({ path: join(REPO_ROOT, 'docs', 'dashboard-overview.png') });
    }
    expect(overview).toContain('demo-overview.png');

    await page.goto(new URL('/compare?from=staging&to=production', link).toString());
    expect(await page.getByText('library.dpkg.openssl', { exact: true }).count()).toBeGreaterThan(0);
    await screenshot(page, 'demo-compare');
    await page.goto(new URL('/environments/production', link).toString());
    expect(await page.locator('body').textContent()).toContain('instead of');
    await screenshot(page, 'demo-environment');
    await context.close();

    const exit = await demo.kill('SIGINT', 20_000);
    expect(exit.code).toBe(0);
  }, 150_000);
});
