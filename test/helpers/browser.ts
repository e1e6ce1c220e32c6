/**
 * A real browser for dashboard tests: Debian's Chromium (`/usr/bin/chromium`, installed by
 * `.ci/run`) driven by playwright-core, which never downloads a browser of its own. Screenshots go
 * to `test/artifacts/` (ignored by git) to be looked at after a run.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { REPO_ROOT } from './processes.js';

export const CHROMIUM_PATH = process.env.ENVPARITY_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS_DIR = join(REPO_ROOT, 'test', 'artifacts');

/**
 * Whether the browser tests can run. In CI (`ENVPARITY_REQUIRE_BROWSER=1`, set by `.ci/run`) a
 * missing Chromium is an error, never a skip.
 */
export function browserSupport(): { ok: true } | { ok: false; reason: string } {
  if (existsSync(CHROMIUM_PATH)) return { ok: true };
  const reason = `no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set ENVPARITY_CHROMIUM)`;
  if (process.env.ENVPARITY_REQUIRE_BROWSER === '1') throw new Error(`browser tests are required here: ${reason}`);
  return { ok: false, reason };
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/** Saves a full-page screenshot as test/artifacts/<name>.png and resolves with its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
