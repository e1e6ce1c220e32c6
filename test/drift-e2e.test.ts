/**
 * Drift end to end (issue 5 req 10, issue 9 req 1): one aggregator and four real agent processes on
 * 127.0.0.1 — one staging, three production — each beside a real application process (a small node
 * script) whose own environment the agent reads from /proc (`watch.processes`, found by its pid
 * file). The agents themselves carry none of the watched variables. The apps' env vars, a watched
 * config file and a project lockfile differ in planned ways. On real servers the same paths exist
 * on every host; here each agent gets its own mount namespace (`unshare -m` + bind mounts) so the
 * config path, the project folder and the app's pid file are the same path on every "host".
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { factPath } from '@envparity/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AgentHandle,
  type AggregatorHandle,
  cleanupProcesses,
  type ManagedProcess,
  makeTempDir,
  mountNamespaceSupport,
  spawnManaged,
  startAgent,
  startAggregator,
  waitFor,
} from './helpers/index.js';

const support = mountNamespaceSupport();

interface Difference {
  path: string;
  category: string;
  from?: unknown;
  to?: unknown;
  status: 'drift' | 'justified' | 'scale';
  exception?: { id: string; reason: string };
}
interface Comparison {
  from: string;
  to: string;
  parity: number;
  differences: Difference[];
}

function packageLock(leftPad: string): string {
  return JSON.stringify(
    {
      name: 'shop',
      version: '1.0.0',
      lockfileVersion: 3,
      requires: true,
      packages: {
        '': { name: 'shop', version: '1.0.0', dependencies: { 'left-pad': leftPad, ms: '2.1.3' } },
        'node_modules/left-pad': {
          version: leftPad,
          resolved: `https://registry.npmjs.org/left-pad/-/left-pad-${leftPad}.tgz`,
        },
        'node_modules/ms': { version: '2.1.3', resolved: 'https://registry.npmjs.org/ms/-/ms-2.1.3.tgz' },
      },
    },
    null,
    2,
  );
}

/** The application: a node process that only waits; what matters is the environment it runs with. */
const APP_SCRIPT = 'setInterval(() => {}, 1 << 30);';

/** Facts of the watched application process. */
const envPath = (name: string) => factPath('process', 'shop', 'env', name);

function appYaml(pool: number, dbHost: string): string {
  return `db:\n  host: ${dbHost}\n  pool: ${pool}\n  password: canary-yaml-${dbHost}\ncache:\n  ttl: 60\n`;
}

describe.skipIf(!support.ok)('drift across environments (4 agents, mount namespaces)', () => {
  let aggregator: AggregatorHandle;
  let etcTarget: string;
  let appTarget: string;
  let runTarget: string;
  const sources: Record<string, { etc: string; app: string; run: string }> = {};
  const apps: Record<string, ManagedProcess> = {};
  const agents: AgentHandle[] = [];

  const configPath = (...keys: string[]) => factPath('config', 'file', join(etcTarget, 'app.yaml'), ...keys);
  const appPath = (...segments: string[]) => factPath('app', appTarget, ...segments);

  beforeAll(async () => {
    aggregator = await startAggregator();
    // The shared mount points: the same absolute paths inside every agent's namespace.
    const base = await makeTempDir('envparity-e2e-mnt-');
    etcTarget = join(base, 'etc');
    appTarget = join(base, 'app');
    runTarget = join(base, 'run');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(etcTarget);
    await mkdir(appTarget);
    await mkdir(runTarget);

    const hosts = [
      {
        id: 'stg-1',
        environment: 'staging',
        pool: 5,
        dbHost: 'db.staging',
        leftPad: '1.3.0',
        env: { LOG_LEVEL: 'debug', FEATURE_NEW_CHECKOUT: 'on', DB_PASSWORD: 'canary-env-staging' },
      },
      {
        id: 'prod-1',
        environment: 'production',
        pool: 20,
        dbHost: 'db.prod',
        leftPad: '1.1.0',
        env: { LOG_LEVEL: 'info', DB_PASSWORD: 'canary-env-prod' },
      },
      {
        id: 'prod-2',
        environment: 'production',
        pool: 20,
        dbHost: 'db.prod',
        leftPad: '1.1.0',
        env: { LOG_LEVEL: 'info', DB_PASSWORD: 'canary-env-prod' },
      },
      // The outlier: a log level nobody planned.
      {
        id: 'prod-3',
        environment: 'production',
        pool: 20,
        dbHost: 'db.prod',
        leftPad: '1.1.0',
        env: { LOG_LEVEL: 'warn', DB_PASSWORD: 'canary-env-prod' },
      },
    ];
    await Promise.all(
      hosts.map(async (host) => {
        const etc = await makeTempDir(`envparity-e2e-etc-${host.id}-`);
        const app = await makeTempDir(`envparity-e2e-app-${host.id}-`);
        const run = await makeTempDir(`envparity-e2e-run-${host.id}-`);
        await writeFile(join(etc, 'app.yaml'), appYaml(host.pool, host.dbHost));
        await writeFile(join(app, 'package-lock.json'), packageLock(host.leftPad));
        sources[host.id] = { etc, app, run };
        // The host's application process, with its own environment (only PATH besides the planned
        // variables); its pid file is where the agent looks, at the same path on every host.
        const appProcess = spawnManaged(process.execPath, ['-e', APP_SCRIPT, 'shop-app'], {
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...host.env },
          name: `app ${host.id}`,
        });
        await writeFile(join(run, 'shop.pid'), `${appProcess.pid}\n`);
        apps[host.id] = appProcess;
        // The agent carries none of the watched variables: what it reports comes from the app.
        const env: NodeJS.ProcessEnv = { ...process.env };
        for (const name of Object.keys(env)) if (/^(LOG_LEVEL|FEATURE_.*|DB_.*)$/.test(name)) delete env[name];
        const agent = await startAgent({
          aggregatorUrl: aggregator.url,
          hostId: host.id,
          environment: host.environment,
          env,
          interval: 3600,
          config: {
            labels: { service: 'shop' },
            watch: {
              envVars: ['LOG_LEVEL', 'FEATURE_*', 'DB_*'],
              files: [join(etcTarget, 'app.yaml')],
              projects: [appTarget],
              processes: [{ name: 'shop', pidFile: join(runTarget, 'shop.pid') }],
            },
          },
          mountNamespace: {
            binds: [
              { source: etc, target: etcTarget },
              { source: app, target: appTarget },
              { source: run, target: runTarget },
            ],
          },
        });
        agents.push(agent);
      }),
    );
    await waitFor(
      async () => {
        const body = await aggregator.json<{ hosts: { fingerprint: string | null; online: boolean }[] }>(
          '/api/v1/hosts',
        );
        return body.hosts.length === 4 && body.hosts.every((h) => h.online && h.fingerprint !== null);
      },
      { timeoutMs: 45_000, message: 'four hosts online with facts' },
    );
  }, 120_000);

  afterAll(() => cleanupProcesses());

  it('compare returns exactly the planned differences, nothing else', async () => {
    const result = await aggregator.json<Comparison>('/api/v1/compare?from=staging&to=production');
    const byPath = Object.fromEntries(result.differences.map((d) => [d.path, d]));
    expect(Object.keys(byPath).sort()).toEqual(
      [
        envPath('DB_PASSWORD'),
        envPath('FEATURE_NEW_CHECKOUT'),
        envPath('LOG_LEVEL'),
        configPath('db', 'host'),
        configPath('db', 'password'),
        configPath('db', 'pool'),
        appPath('npm', 'left-pad'),
        appPath('lockfile', 'package-lock.json', 'sha256'),
      ].sort(),
    );
    for (const difference of result.differences) expect(difference.status).toBe('drift');
    expect(byPath[envPath('LOG_LEVEL')]).toMatchObject({ from: 'debug', to: 'info', category: 'process' });
    expect(byPath[envPath('FEATURE_NEW_CHECKOUT')]).toMatchObject({ from: 'on' });
    expect(byPath[envPath('FEATURE_NEW_CHECKOUT')]?.to).toBeUndefined();
    expect(byPath[configPath('db', 'pool')]).toMatchObject({ from: 5, to: 20 });
    expect(byPath[appPath('npm', 'left-pad')]).toMatchObject({ from: '1.3.0', to: '1.1.0', category: 'app' });
    // Secrets differ, and are compared only through their keyed hashes.
    expect(byPath[envPath('DB_PASSWORD')]?.from).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(JSON.stringify(result)).not.toContain('canary');
    expect(result.parity).toBeGreaterThan(0.9);
    expect(result.parity).toBeLessThan(1);
  });

  it('finds the one production outlier', async () => {
    const body = await aggregator.json<{
      outliers: { hostId: string; path: string; expected?: unknown; actual?: unknown }[];
    }>('/api/v1/environments/production/outliers');
    expect(body.outliers).toHaveLength(1);
    expect(body.outliers[0]).toMatchObject({
      hostId: 'prod-3',
      path: envPath('LOG_LEVEL'),
      expected: 'info',
      actual: 'warn',
    });
  });

  it('an exception turns its difference into justified and raises parity', async () => {
    const before = await aggregator.json<Comparison>('/api/v1/compare?from=staging&to=production');
    const created = await aggregator.api('/api/v1/exceptions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        path: envPath('LOG_LEVEL'),
        environments: ['staging', 'production'],
        reason: 'verbose logs in staging',
        owner: 'platform',
      }),
    });
    expect(created.status).toBe(201);
    const exception = (await created.json()) as { id: string };
    const after = await aggregator.json<Comparison>('/api/v1/compare?from=staging&to=production');
    const logLevel = after.differences.find((d) => d.path === envPath('LOG_LEVEL'));
    expect(logLevel).toMatchObject({
      status: 'justified',
      exception: { id: exception.id, reason: 'verbose logs in staging' },
    });
    expect(after.differences.filter((d) => d.status === 'drift')).toHaveLength(before.differences.length - 1);
    expect(after.parity).toBeGreaterThan(before.parity);
    const deleted = await aggregator.api(`/api/v1/exceptions/${exception.id}`, { method: 'DELETE' });
    expect(deleted.status).toBeLessThan(300);
  });

  it('a config-file edit lands in the host timeline', async () => {
    const editedAt = Date.now();
    await writeFile(join(sources['stg-1']!.etc, 'app.yaml'), appYaml(6, 'db.staging'));
    const change = await waitFor(
      async () => {
        const body = await aggregator.json<{ changes: { at: string; path: string; from?: unknown; to?: unknown }[] }>(
          '/api/v1/hosts/stg-1/changes',
        );
        return body.changes.find((c) => c.path === configPath('db', 'pool') && c.to === 6);
      },
      { timeoutMs: 5000, intervalMs: 100, message: 'the db.pool change in stg-1 timeline' },
    );
    expect(change.from).toBe(5);
    expect(Date.parse(change.at)).toBeGreaterThanOrEqual(editedAt - 1000);
  });

  it('an app restarted with the planned env var ends the outlier; no agent restarts', async () => {
    const agentPids = agents.map((agent) => agent.pid);
    await apps['prod-3']!.kill('SIGKILL');
    const restarted = spawnManaged(process.execPath, ['-e', APP_SCRIPT, 'shop-app'], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LOG_LEVEL: 'info', DB_PASSWORD: 'canary-env-prod' },
      name: 'app prod-3',
    });
    apps['prod-3'] = restarted;
    await writeFile(join(sources['prod-3']!.run, 'shop.pid'), `${restarted.pid}\n`);
    const restartedAt = Date.now();
    await waitFor(
      async () => {
        const host = await aggregator.json<{ facts: Record<string, unknown> }>('/api/v1/hosts/prod-3');
        return host.facts[envPath('LOG_LEVEL')] === 'info';
      },
      { timeoutMs: 5000, intervalMs: 100, message: 'prod-3 reporting LOG_LEVEL=info from the restarted app' },
    );
    expect(Date.now() - restartedAt).toBeLessThan(5000);
    await waitFor(
      async () =>
        (await aggregator.json<{ outliers: unknown[] }>('/api/v1/environments/production/outliers')).outliers.length ===
        0,
      { timeoutMs: 15_000, message: 'no production outlier once prod-3 runs with info' },
    );
    expect(agents.map((agent) => agent.pid)).toEqual(agentPids);
    expect(agents.every((agent) => agent.process.running)).toBe(true);
  });

  it('secret canaries appear nowhere: API answers, database files, logs, agent state', async () => {
    const canaries = ['canary-env-staging', 'canary-env-prod', 'canary-yaml-db.staging', 'canary-yaml-db.prod'];
    const answers: string[] = [];
    const get = async (path: string) => {
      const response = await aggregator.api(path);
      expect(response.status, path).toBe(200);
      answers.push(await response.text());
    };
    const hostIds = ['stg-1', 'prod-1', 'prod-2', 'prod-3'];
    await get('/api/v1/hosts');
    await get('/api/v1/environments');
    for (const id of hostIds) {
      await get(`/api/v1/hosts/${id}`);
      await get(`/api/v1/hosts/${id}/changes`);
    }
    for (const env of ['staging', 'production']) {
      await get(`/api/v1/environments/${env}/baseline`);
      await get(`/api/v1/environments/${env}/outliers`);
    }
    await get('/api/v1/compare?from=staging&to=production');
    await get('/api/v1/drift');
    await get(`/api/v1/facts/distribution?path=${encodeURIComponent(envPath('DB_PASSWORD'))}`);
    await get(`/api/v1/facts/distribution?path=${encodeURIComponent(configPath('db', 'password'))}`);
    await get('/api/v1/exceptions');
    answers.push(await aggregator.metrics());
    // The differing secrets are still flagged, through their hashes.
    const compare = JSON.parse(answers.find((a) => a.includes('"differences"')) ?? '{}') as Comparison;
    expect(compare.differences.map((d) => d.path)).toEqual(
      expect.arrayContaining([envPath('DB_PASSWORD'), configPath('db', 'password')]),
    );

    await Promise.all(agents.map((agent) => agent.stop()));
    await aggregator.stop();
    const { readdir, readFile } = await import('node:fs/promises');
    const filesUnder = async (dir: string): Promise<string[]> => {
      const entries = await readdir(dir, { withFileTypes: true, recursive: true });
      return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
    };
    const stored: { name: string; bytes: Buffer }[] = [];
    for (const file of await filesUnder(aggregator.dataDir)) stored.push({ name: file, bytes: await readFile(file) });
    for (const agent of agents) {
      for (const file of await filesUnder(agent.stateDir)) stored.push({ name: file, bytes: await readFile(file) });
    }
    expect(stored.some((f) => f.name.endsWith('envparity.db'))).toBe(true);
    const logs = [aggregator.logs, ...agents.map((a) => a.logs)].flat().join('\n');
    expect(logs.length).toBeGreaterThan(0);
    for (const canary of canaries) {
      for (const answer of answers) expect(answer).not.toContain(canary);
      expect(logs).not.toContain(canary);
      for (const file of stored) expect(file.bytes.includes(canary), `${canary} in ${file.name}`).toBe(false);
    }
  });
});
