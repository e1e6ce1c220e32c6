/**
 * The seed's scenario end to end (issue 16, requirement 7): a staging and a production host (each
 * its own mount namespace), each with its own real PostgreSQL server — staging on the installed
 * build, production on another minor version of the same major unpacked by .ci/run — that differ
 * in one setting (`statement_timeout`) and in one column of the `orders` table, and whose sshd
 * configs differ in `PasswordAuthentication`. Compare shows exactly those differences; a security
 * exception without an owner is refused; `verify` with a failing health check exits 1 naming it.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { factPath } from '@envparity/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AGENT_BIN,
  type AggregatorHandle,
  type BindMount,
  cleanupProcesses,
  makeTempDir,
  mountNamespaceSupport,
  runToCompletion,
  startAgent,
  startAggregator,
  waitFor,
} from './helpers/index.js';
import { otherPostgresBuild, type PostgresServer, postgresSupport, startPostgres } from './helpers/postgres-server.js';

const namespaces = mountNamespaceSupport();
const otherBuild = otherPostgresBuild();
const required = process.env.ENVPARITY_REQUIRE_SERVERS === '1';
const skipReason = !namespaces.ok ? namespaces.reason : !otherBuild.ok ? otherBuild.reason : undefined;
if (skipReason && required && namespaces.ok) throw new Error(`the scenario is required here: ${skipReason}`);

interface Difference {
  path: string;
  category: string;
  from?: unknown;
  to?: unknown;
  status: 'drift' | 'justified' | 'scale';
}

const SSH_DIR = '/etc/ssh';
const PASSWORDS = { staging: 'stg-canary-Pw-71', production: 'prd-canary-Pw-93' } as const;
const service = (...segments: string[]) => factPath('service', 'db', ...segments);

function sshdConfig(passwordAuthentication: 'yes' | 'no'): string {
  return [
    'Port 22',
    'PermitRootLogin prohibit-password',
    `PasswordAuthentication ${passwordAuthentication}`,
    'PubkeyAuthentication yes',
    'KbdInteractiveAuthentication no',
    'X11Forwarding no',
    '',
  ].join('\n');
}

/** The app's schema: production got the migration that adds `discount_code`, staging not yet. */
function schema(withDiscountCode: boolean): string {
  return `CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL, total numeric(10,2)${
    withDiscountCode ? ', discount_code text' : ''
  }); INSERT INTO orders SELECT g, 'c' || g, g FROM generate_series(1, 50) g; ANALYZE orders;`;
}

/** `envparity-agent verify ...` inside a host's mount namespace (its files, as its agent sees them). */
function verifyOnHost(binds: readonly BindMount[], args: readonly string[], env: NodeJS.ProcessEnv) {
  const script = `${binds.map(() => 'mount --bind "$1" "$2" && shift 2 && ').join('')}exec "$@"`;
  const positional = binds.flatMap((bind) => [bind.source, bind.target]);
  return runToCompletion(
    'unshare',
    [
      '-m',
      '--propagation',
      'private',
      'sh',
      '-c',
      script,
      'sh',
      ...positional,
      process.execPath,
      AGENT_BIN,
      'verify',
      ...args,
    ],
    { env },
  );
}

describe.skipIf(skipReason !== undefined)(
  'staging and production: database, sshd and health (issue 16 scenario)',
  () => {
    let aggregator: AggregatorHandle;
    const servers: Record<'staging' | 'production', PostgresServer | undefined> = {
      staging: undefined,
      production: undefined,
    };
    const hostFiles: Record<string, { binds: BindMount[]; config: string; stateDir: string }> = {};

    beforeAll(async () => {
      if (!postgresSupport().ok || !otherBuild.ok) return;
      // The bind target must exist; CI installs openssh-server, a bare machine may lack the dir.
      if (!existsSync(SSH_DIR)) mkdirSync(SSH_DIR, { recursive: true });
      aggregator = await startAggregator();
      const [staging, production] = await Promise.all([
        startPostgres({
          roles: [{ name: 'app', password: PASSWORDS.staging }],
          databases: [{ name: 'app', owner: 'app' }],
          settings: { statement_timeout: '0' },
        }),
        startPostgres({
          binDir: otherBuild.binDir,
          roles: [{ name: 'app', password: PASSWORDS.production }],
          databases: [{ name: 'app', owner: 'app' }],
          settings: { statement_timeout: '30s' },
        }),
      ]);
      servers.staging = staging;
      servers.production = production;
      await staging.query(schema(false), [], { database: 'app' });
      await production.query(schema(true), [], { database: 'app' });

      for (const [environment, server] of [
        ['staging', staging],
        ['production', production],
      ] as const) {
        const dir = await makeTempDir(`envparity-scenario-${environment}-`);
        const ssh = join(dir, 'ssh');
        mkdirSync(ssh);
        await writeFile(join(ssh, 'sshd_config'), sshdConfig(environment === 'staging' ? 'yes' : 'no'));
        const config = {
          watch: {
            services: [
              {
                name: 'db',
                type: 'postgres',
                host: '127.0.0.1',
                port: server.port,
                database: 'app',
                user: 'app',
                passwordEnv: 'APP_DB_PASSWORD',
                tables: ['orders'],
              },
            ],
          },
        };
        const binds = [{ source: ssh, target: SSH_DIR }];
        const agent = await startAgent({
          aggregatorUrl: aggregator.url,
          hostId: `${environment}-1`,
          environment,
          interval: 3600,
          env: { APP_DB_PASSWORD: PASSWORDS[environment] },
          config,
          mountNamespace: { binds },
        });
        hostFiles[environment] = { binds, config: agent.configFile, stateDir: agent.stateDir };
      }
      await waitFor(
        async () => {
          const body = await aggregator.json<{ hosts: { fingerprint: string | null; online: boolean }[] }>(
            '/api/v1/hosts',
          );
          return body.hosts.length === 2 && body.hosts.every((h) => h.online && h.fingerprint !== null);
        },
        { timeoutMs: 45_000, message: 'two hosts online with facts' },
      );
    }, 120_000);

    afterAll(async () => {
      await cleanupProcesses();
      await Promise.all([servers.staging?.stop(), servers.production?.stop()]);
    });

    it('compare shows exactly the version, the setting, the column and PasswordAuthentication', async () => {
      const result = await aggregator.json<{ differences: Difference[] }>('/api/v1/compare?from=staging&to=production');
      const byPath = Object.fromEntries(result.differences.map((d) => [d.path, d]));
      const sshd = factPath('security', 'sshd', 'PasswordAuthentication');
      expect(Object.keys(byPath).sort()).toEqual(
        [
          service('version'),
          service('versionNum'),
          service('settings', 'statement_timeout'),
          service('tables', 'orders', 'columns', 'discount_code'),
          sshd,
        ].sort(),
      );
      for (const difference of result.differences) expect(difference.status, difference.path).toBe('drift');
      const stagingVersion = await servers.staging?.query<{ server_version: string }>('SHOW server_version');
      const productionVersion = await servers.production?.query<{ server_version: string }>('SHOW server_version');
      expect(byPath[service('version')]).toMatchObject({
        category: 'service',
        from: stagingVersion?.[0]?.server_version,
        to: productionVersion?.[0]?.server_version,
      });
      expect(String(byPath[service('version')]?.from)).toContain(otherBuild.ok ? otherBuild.installedVersion : '?');
      expect(String(byPath[service('version')]?.to)).toContain(otherBuild.ok ? otherBuild.version : '?');
      expect(byPath[service('settings', 'statement_timeout')]).toMatchObject({ from: '0', to: '30s' });
      expect(byPath[service('tables', 'orders', 'columns', 'discount_code')]).toMatchObject({ to: 'text' });
      expect(byPath[service('tables', 'orders', 'columns', 'discount_code')]?.from).toBeUndefined();
      expect(byPath[sshd]).toMatchObject({ category: 'security', from: 'yes', to: 'no' });
      // The same rows on both sides: a scale fact that agrees is no difference.
      const host = await aggregator.json<{ facts: Record<string, unknown> }>('/api/v1/hosts/production-1');
      expect(host.facts[service('tables', 'orders', 'rows')]).toBe(50);
      expect(host.facts[service('reachable')]).toBe(true);
    });

    it('the database passwords never reach the aggregator: not in its API answers, not in its database', async () => {
      const answers = JSON.stringify([
        await aggregator.json('/api/v1/hosts/staging-1'),
        await aggregator.json('/api/v1/hosts/production-1'),
        await aggregator.json('/api/v1/compare?from=staging&to=production'),
      ]);
      const database = await readFile(aggregator.dbPath);
      for (const password of Object.values(PASSWORDS)) {
        expect(answers).not.toContain(password);
        expect(database.includes(password)).toBe(false);
      }
    });

    it('an exception on the sshd difference without an owner is refused, naming the field', async () => {
      const response = await aggregator.api('/api/v1/exceptions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          path: 'security.sshd.PasswordAuthentication',
          environments: ['staging', 'production'],
          reason: 'staging lets the QA team log in with passwords',
          expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
        }),
      });
      expect(response.status).toBe(400);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('INVALID_REQUEST');
      expect(body.error.message).toContain('owner');
      const listed = await aggregator.json<{ exceptions: unknown[] }>('/api/v1/exceptions');
      expect(listed.exceptions).toEqual([]);
    });

    it('verify on the staging host: facts in parity, a failing health check exits 1 and is named', async () => {
      const staging = hostFiles.staging;
      if (!staging) throw new Error('no staging host');
      const dir = await makeTempDir('envparity-scenario-checks-');
      const checksFile = join(dir, 'checks.yaml');
      const run = async (version: string, format: string) => {
        await writeFile(
          checksFile,
          `checks:\n  - { name: db-at-production-version, service: db, version: "${version}" }\n`,
        );
        return verifyOnHost(
          staging.binds,
          [
            '--against',
            'staging',
            '--aggregator',
            aggregator.url,
            '--config',
            staging.config,
            '--state-dir',
            staging.stateDir,
            '--checks',
            checksFile,
            '--format',
            format,
          ],
          { ...process.env, APP_DB_PASSWORD: PASSWORDS.staging, ENVPARITY_TOKEN: aggregator.adminToken, NO_COLOR: '1' },
        );
      };
      const installed = otherBuild.ok ? otherBuild.installedVersion : '0';
      const production = otherBuild.ok ? otherBuild.version : '0';
      // Staging runs the older minor: a check asking for production's version fails...
      const failing = await run(`>=${production}`, 'json');
      expect(failing.code, failing.stderr).toBe(1);
      const report = JSON.parse(failing.stdout) as {
        passed: boolean;
        summary: Record<string, number>;
        checks: { name: string; kind: string; ok: boolean; actual: unknown }[];
      };
      expect(report.passed).toBe(false);
      expect(report.summary.drift).toBe(0);
      expect(report.checks).toHaveLength(1);
      expect(report.checks[0]).toMatchObject({ name: 'db-at-production-version', kind: 'service', ok: false });
      expect(JSON.stringify(report.checks[0]?.actual)).toContain(installed);
      const text = await run(`>=${production}`, 'text');
      expect(text.code).toBe(1);
      expect(text.stdout).toContain('db-at-production-version');
      // ...and one its version satisfies passes: the exit 1 above came from the check alone.
      const passing = await run(`>=${installed}`, 'text');
      expect(passing.code, passing.stdout + passing.stderr).toBe(0);
      expect(`${failing.stdout}${text.stdout}${failing.stderr}`).not.toContain(PASSWORDS.staging);
    });
  },
);
