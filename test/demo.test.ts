/**
 * `npm run demo` (issue 12 req 14) as a new user runs it: scripts/demo.js starts the aggregator on a
 * temp store, a real agent for this host and a simulated dev -> staging -> production fleet with
 * planted differences, and prints the dashboard sign-in URL first. Checked through the JSON API:
 * each planted difference is where the summary says; then Ctrl-C (SIGINT to the process group, as
 * a terminal sends it) stops every process and removes the temp store.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupProcesses, REPO_ROOT, spawnManaged, waitFor } from './helpers/index.js';

afterAll(() => cleanupProcesses());

/** Pids of the live processes of a process group, from /proc (the demo and its children). */
function processGroup(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so split after the last ')'.
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z') pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

const commandOf = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
};

interface Difference {
  path: string;
  from?: unknown;
  to?: unknown;
  status: string;
  exception?: { id: string; reason: string };
}

describe('npm run demo', () => {
  it('runs a fleet with the planted differences, prints the sign-in URL, and cleans up on Ctrl-C', async () => {
    const demo = spawnManaged(process.execPath, [join(REPO_ROOT, 'scripts', 'demo.js')], {
      env: {
        ...process.env,
        PORT: '0',
        ENVPARITY_DEMO_HOSTS: '30',
        ENVPARITY_ADMIN_TOKEN: '',
        ENVPARITY_ENROLL_SECRET: '',
      },
      name: 'npm run demo',
    });
    const ready = await waitFor(
      (): string | undefined =>
        demo.logs.find((line) => line.startsWith('ready ')) ?? (demo.running ? undefined : 'exited'),
      {
        timeoutMs: 90_000,
        message: 'the ready line',
      },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${demo.tail()}`);
    });
    if (!ready.startsWith('ready ')) throw new Error(`npm run demo exited before it was ready\n${demo.tail()}`);
    const url = ready.slice('ready '.length);

    // The sign-in URL comes first in the summary; the admin token is never printed.
    const dashboardAt = demo.logs.findIndex((line) => line.startsWith('Dashboard: '));
    expect(dashboardAt).toBeGreaterThanOrEqual(0);
    expect(dashboardAt).toBeLessThan(demo.logs.indexOf('envparity demo is running.'));
    expect((demo.logs[dashboardAt] as string).slice('Dashboard: '.length)).toMatch(
      new RegExp(`^${url.replace(/[.]/g, '\\.')}/login(\\?code=[\\w%-]+)?$`),
    );
    const dataLine = demo.logs.find((line) => line.trim().startsWith('data + logs'));
    const dataDir = /data \+ logs\s+(\S+)/.exec(dataLine ?? '')?.[1] as string;
    expect(dataDir).toMatch(/envparity-demo-/);
    expect(existsSync(join(dataDir, 'aggregator.json'))).toBe(true);
    const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    expect(demo.logs.join('\n')).not.toContain(token);

    const get = async <T>(path: string): Promise<T> => {
      const response = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status, path).toBe(200);
      return (await response.json()) as T;
    };

    // Promotion order dev -> staging -> production, plus the local agent's environment.
    const environments = await waitFor(
      async () => {
        const list =
          await get<{ name: string; hosts: number; online: number; upstream: string | null }[]>('/api/v1/environments');
        const local = list.find((e) => e.name === 'local');
        return local && local.online === 1 ? list : undefined;
      },
      { timeoutMs: 30_000, message: 'the local agent online' },
    );
    expect(environments.map((e) => e.name)).toEqual(['dev', 'staging', 'production', 'local']);
    expect(environments.find((e) => e.name === 'production')?.upstream).toBe('staging');
    expect(environments.slice(0, 3).reduce((sum, e) => sum + e.hosts, 0)).toBe(30);

    // Staging -> production: the security patch, the scale difference, the secret as hashes, the justified ones.
    const compare = await get<{ differences: Difference[] }>('/api/v1/compare?from=staging&to=production');
    const byPath = new Map(compare.differences.map((d) => [d.path, d]));
    const openssl = byPath.get('library.dpkg.openssl');
    expect(openssl?.status).toBe('drift');
    expect(String(openssl?.to) > String(openssl?.from)).toBe(true);
    expect(byPath.get('hardware.cpu.cores')).toMatchObject({ status: 'scale', from: 2, to: 4 });
    expect(byPath.get('hardware.memory.total')?.status).toBe('scale');
    const secret = byPath.get('config.env.API_TOKEN');
    expect(secret?.status).toBe('drift');
    expect(secret?.from).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(secret?.to).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(secret?.from).not.toBe(secret?.to);
    // DB passwords differ per environment as they should (secret policy `differ`): no difference.
    expect(byPath.has('config.env.DB_PASSWORD')).toBe(false);
    const justified = byPath.get('config.env.LOG_LEVEL');
    expect(justified?.status).toBe('justified');
    expect(justified?.exception?.reason).toMatch(/staging/);
    expect(byPath.get('config.file["/etc/myapp/config.yaml"].db.pool.max')?.status).toBe('justified');

    // One outlier host in production, none in staging.
    const outliers = await get<{ outliers: { hostId: string; path: string }[] }>(
      '/api/v1/environments/production/outliers',
    );
    expect(new Set(outliers.outliers.map((o) => o.hostId)).size).toBe(1);
    expect(outliers.outliers.map((o) => o.path)).toContain('os.kernel.release');
    const outlierLine = demo.logs.find((line) => line.includes('outlier host:'));
    expect(outlierLine).toContain(outliers.outliers[0]?.hostId);
    expect((await get<{ outliers: unknown[] }>('/api/v1/environments/staging/outliers')).outliers).toEqual([]);

    // The emergency change: flagged in the host's history, and the staging/production event carries the mark.
    const changes = await waitFor(
      async () => {
        const { hosts } = await get<{ hosts: { id: string }[] }>('/api/v1/hosts?environment=production');
        const history = await get<{ changes: { path: string; to?: unknown; emergency?: boolean }[] }>(
          `/api/v1/hosts/${encodeURIComponent(hosts[0]?.id as string)}/changes`,
        );
        return history.changes.find((c) => c.path === 'config.env.FEATURE_RATE_LIMIT' && c.emergency === true);
      },
      { timeoutMs: 30_000, message: 'the emergency change flagged in the history' },
    );
    expect(changes.to).toBe('false');
    await waitFor(
      async () => {
        const { events } = await get<{ events: { path: string; emergency?: boolean; otherEnvironment?: string }[] }>(
          '/api/v1/drift?status=open&environment=production&kind=environment&limit=1000',
        );
        return events.find(
          (e) =>
            e.path === 'config.env.FEATURE_RATE_LIMIT' && e.emergency === true && e.otherEnvironment === 'production',
        );
      },
      { timeoutMs: 45_000, message: 'the emergency drift event' },
    );

    // The exceptions: one without expiry, one expiring about a minute after start.
    const { exceptions } = await get<{
      exceptions: { path: string; expiresAt: string | null; expired: boolean; owner?: string; reason: string }[];
    }>('/api/v1/exceptions');
    expect(exceptions).toHaveLength(2);
    expect(exceptions.find((e) => e.path === 'config.env.LOG_LEVEL')?.expiresAt).toBeNull();
    const expiring = exceptions.find((e) => e.expiresAt !== null);
    const left = Date.parse(expiring?.expiresAt as string) - Date.now();
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(60_000);
    expect(expiring?.expired).toBe(false);
    expect(expiring?.owner).toBeTruthy();

    // Ctrl-C: every process of the group exits, the temp store is gone.
    const group = processGroup(demo.pid).filter((pid) => pid !== demo.pid);
    const commands = group.map(commandOf);
    expect(commands.some((c) => c.includes('envparity-aggregator.js serve'))).toBe(true);
    expect(commands.some((c) => c.includes('envparity-agent.js run'))).toBe(true);
    const exit = await demo.kill('SIGINT', 20_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(demo.logs).toContain('envparity: stopped.');
    expect(existsSync(dataDir)).toBe(false);
    expect(processGroup(demo.pid)).toEqual([]);
  }, 150_000);
});
