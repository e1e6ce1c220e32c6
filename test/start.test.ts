/**
 * `npm start` (issue 4 req 9) as a new user runs it: scripts/start.js builds, starts the aggregator on
 * an embedded SQLite store plus one local agent, prints the API URL and a ready-to-paste curl with
 * the token; the curl works; Ctrl-C (SIGINT to the process group, as a terminal sends it) stops both
 * cleanly with exit code 0.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupProcesses, makeTempDir, REPO_ROOT, spawnManaged, waitFor } from './helpers/index.js';

afterAll(() => cleanupProcesses());

describe('npm start', () => {
  it('runs the aggregator and a local agent, prints where to look, stops cleanly on Ctrl-C', async () => {
    const dataDir = await makeTempDir('envparity-e2e-start-');
    const start = spawnManaged(process.execPath, [join(REPO_ROOT, 'scripts', 'start.js')], {
      env: {
        ...process.env,
        PORT: '0',
        ENVPARITY_DATA: dataDir,
        ENVPARITY_ADMIN_TOKEN: '',
        ENVPARITY_ENROLL_SECRET: '',
      },
      name: 'npm start',
    });
    const ready = await waitFor(() => start.logs.find((line) => line.startsWith('ready ')), {
      timeoutMs: 90_000,
      message: `the ready line\n${start.tail()}`,
    });
    const url = ready.slice('ready '.length);
    const curl = start.logs.find((line) => line.includes('curl') && line.includes('/api/v1/hosts'));
    expect(curl).toBeDefined();
    const [, token, hostsUrl] = /Bearer ([^"]+)" (\S+)/.exec(curl as string) ?? [];
    expect(hostsUrl).toBe(`${url}/api/v1/hosts`);

    // The printed curl works: the local agent shows up with its facts.
    const host = await waitFor(
      async () => {
        const response = await fetch(hostsUrl as string, { headers: { authorization: `Bearer ${token}` } });
        const body = (await response.json()) as {
          hosts: { id: string; online: boolean; fingerprint: string | null; environment: string }[];
        };
        return body.hosts.find((h) => h.online && h.fingerprint !== null);
      },
      { timeoutMs: 30_000, message: 'the local agent with facts' },
    );
    expect(host.environment).toBe('local');
    expect((await fetch(`${url}/healthz`)).status).toBe(200);

    // The dashboard comes first: a one-time sign-in link without the token, that signs a browser in once.
    const printed = start.logs.filter((line) => line.trim() !== '');
    expect(printed.findIndex((line) => line.startsWith('Dashboard: '))).toBeLessThan(
      printed.findIndex((line) => line.includes('envparity is running.')),
    );
    const link = /^Dashboard: (\S+)$/.exec(printed.find((line) => line.startsWith('Dashboard: ')) ?? '')?.[1] ?? '';
    expect(link).toMatch(new RegExp(`^${url}/login\\?code=[A-Za-z0-9_-]{43}$`));
    expect(link).not.toContain(token);
    expect((await fetch(link, { redirect: 'manual' })).status).toBe(200);
    const code = new URL(link).searchParams.get('code') ?? '';
    const signedIn = await fetch(`${url}/login`, {
      method: 'POST',
      body: new URLSearchParams({ code }),
      redirect: 'manual',
    });
    expect(signedIn.status).toBe(303);
    const cookie = (signedIn.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const overview = await fetch(`${url}/`, { headers: { cookie }, redirect: 'manual' });
    expect(overview.status).toBe(200);
    expect(await overview.text()).toContain('<title>Overview · envparity</title>');
    expect(
      (await fetch(`${url}/login`, { method: 'POST', body: new URLSearchParams({ code }), redirect: 'manual' })).status,
    ).toBe(401);

    const exit = await start.kill('SIGINT', 20_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(start.logs).toContain('envparity: stopped.');
  }, 150_000);
});
