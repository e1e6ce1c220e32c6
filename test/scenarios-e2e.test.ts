/**
 * The seed's scenario suite as one end-to-end test (issue 9 req 9). One aggregator and four hosts —
 * staging-1, prod-1, prod-2, prod-3 — each a private mount + PID namespace (test/helpers/
 * namespace-host.ts) with its own REAL application process (`scenario-api.js`, a small node
 * script) whose environment the agent reads from /proc (`watch.processes`), never from its own.
 * Environments change by restarting the application, never the agent. Webhooks go to a local
 * receiver (test/helpers/webhook-receiver.ts) and are counted exactly, phase by phase.
 *
 * Planted at enrollment (the hosts' first reports, so none of them is an emergency change):
 *   (1) partial update: left-pad 1.3.0 is in staging and on prod-1 only (project lockfile);
 *   (3) scale difference: the `db` probe's `orders.rows` (scale by the default rules);
 *   (4) differing secret with a `differ` policy: DB_PASSWORD differs between the environments;
 *   (5) legacy schema version: the `schema_version` probe, production one migration behind;
 *   (6) an outlier: prod-3 runs LOG_LEVEL=warn where prod-1 and prod-2 run info (staging: debug).
 * Then, live:
 *   (7) an exception on the legacy schema that expires a few seconds later;
 *   (2) an emergency hotfix env var on all three production hosts — while staging is redeployed
 *       with the production secret (4: status `secret-policy`) — then the staging deploy that
 *       brings the hotfix and its own secret;
 *   a rolling agent restart, and `verify --against production` from fresh CI state dirs with a
 *   `verify`-scope token, after which no event, no webhook and no new host may appear.
 */

import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { factPath } from '@envparity/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AGENT_BIN,
  type AggregatorHandle,
  cleanupProcesses,
  type ManagedProcess,
  makeTempDir,
  sleep,
  startAggregator,
  waitFor,
} from './helpers/index.js';
import {
  type NamespacedAgent,
  type NamespaceHost,
  pidNamespaceSupport,
  startNamespacedAgent,
  startNamespaceHost,
} from './helpers/namespace-host.js';
import { startWebhookReceiver, type WebhookReceiver } from './helpers/webhook-receiver.js';

const support = pidNamespaceSupport();

/**
 * After the expected webhooks arrived, how long to keep listening for unexpected ones: more than a
 * drift pass gap (2 s), so an extra event first seen in the same or the next pass shows up.
 */
const QUIET_MS = Number(process.env.ENVPARITY_SCENARIO_QUIET_MS ?? 3000);
/** The drift engine holds a new event this long for the other hosts of its cause (DEFAULT_GROUP_WINDOW_MS). */
const GROUP_WINDOW_MS = 10_000;
/** How long each agent stays down in the rolling restart. */
const AGENT_DOWN_MS = 1500;
/** The exception of scenario (7) expires this long after it is created. */
const EXCEPTION_SECONDS = 7;
const WEBHOOK_SECRET = 'scenario-webhook-secret';
const WATCHED_ENV = /^(LOG_LEVEL|FEATURE_.*|DB_.*)$/;

type Status = 'drift' | 'justified' | 'scale' | 'secret-policy';
interface Difference {
  path: string;
  category: string;
  from?: unknown;
  to?: unknown;
  status: Status | string;
  exception?: { id: string; reason: string };
}
interface Comparison {
  from: string;
  to: string;
  parity: number;
  differences: Difference[];
}
interface DriftRecord {
  id: string;
  kind: string;
  environment: string;
  otherEnvironment?: string;
  hostId?: string;
  hosts?: string[];
  path: string;
  expected?: unknown;
  actual?: unknown;
  status: 'open' | 'resolved';
  paths?: string[];
}
interface ApiHostRow {
  id: string;
  environment: string;
  online: boolean;
  fingerprint: string | null;
  lastSeen: string | null;
}

interface HostPlan {
  id: string;
  environment: 'staging' | 'production';
  /** The application's own environment (watched: LOG_LEVEL, FEATURE_*, DB_*). */
  appEnv: Record<string, string>;
  leftPad: string;
  schema: number;
  rows: number;
}

const STAGING_PASSWORD = 'canary-staging-db-password';
const PRODUCTION_PASSWORD = 'canary-production-db-password';

const PLAN: HostPlan[] = [
  {
    id: 'staging-1',
    environment: 'staging',
    appEnv: { LOG_LEVEL: 'debug', DB_PASSWORD: STAGING_PASSWORD },
    leftPad: '1.3.0',
    schema: 42,
    rows: 1200,
  },
  {
    id: 'prod-1',
    environment: 'production',
    appEnv: { LOG_LEVEL: 'info', DB_PASSWORD: PRODUCTION_PASSWORD },
    leftPad: '1.3.0', // (1) the partial update reached this production host only
    schema: 41,
    rows: 5_000_000,
  },
  {
    id: 'prod-2',
    environment: 'production',
    appEnv: { LOG_LEVEL: 'info', DB_PASSWORD: PRODUCTION_PASSWORD },
    leftPad: '1.1.0',
    schema: 41,
    rows: 5_000_000,
  },
  {
    id: 'prod-3',
    environment: 'production',
    appEnv: { LOG_LEVEL: 'warn', DB_PASSWORD: PRODUCTION_PASSWORD }, // (6) the outlier
    leftPad: '1.1.0',
    schema: 41,
    rows: 5_000_000,
  },
];
/** Production first (any two of them tie on every planted difference, and ties open nothing), staging last. */
const START_ORDER = ['prod-1', 'prod-2', 'prod-3', 'staging-1'];
const PRODS = ['prod-1', 'prod-2', 'prod-3'];

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

/** The application: a node process that idles until SIGTERM. Its argv is the same on every host. */
const APP_SCRIPT = `'use strict';
const timer = setInterval(() => {}, 1 << 30);
process.on('SIGTERM', () => { clearInterval(timer); process.exit(0); });
`;

/** The test process's environment without the variables the agents watch. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (WATCHED_ENV.test(name)) delete env[name];
  delete env.ENVPARITY_TOKEN;
  delete env.ENVPARITY_STATE_DIR;
  return env;
}

describe.skipIf(!support.ok)('the seed scenario suite (1 staging + 3 production hosts, real app processes)', () => {
  let aggregator: AggregatorHandle;
  let receiver: WebhookReceiver;
  let appTarget: string;
  let appScript: string;
  const hosts = new Map<string, NamespaceHost>();
  const agents = new Map<string, NamespacedAgent>();
  const apps = new Map<string, ManagedProcess>();
  const appEnvs = new Map<string, Record<string, string>>();
  const agentConfigs = new Map<string, string>();

  const appPath = (...segments: string[]) => factPath('app', appTarget, ...segments);
  const LEFT_PAD = () => appPath('npm', 'left-pad');
  const LOCK_SHA = () => appPath('lockfile', 'package-lock.json', 'sha256');
  const LOG_LEVEL = 'process.api.env.LOG_LEVEL';
  const DB_PASSWORD = 'process.api.env.DB_PASSWORD';
  const HOTFIX = 'process.api.env.FEATURE_HOTFIX_RETRY';
  const SCHEMA = 'probe.schema_version';
  const ROWS = 'probe.db.orders.rows';

  // --- small API helpers ------------------------------------------------------------------------
  const compare = () => aggregator.json<Comparison>('/api/v1/compare?from=staging&to=production');
  const byPath = (c: Comparison) => Object.fromEntries(c.differences.map((d) => [d.path, d]));
  /** path -> status of every difference compare reports, sorted by path. */
  const statuses = (c: Comparison) => sortedRecord(c.differences.map((d) => [d.path, d.status] as [string, string]));
  const drift = async (status?: 'open' | 'resolved') =>
    (await aggregator.json<{ events: DriftRecord[] }>(`/api/v1/drift${status ? `?status=${status}` : ''}`)).events;
  const outliers = async () =>
    (
      await aggregator.json<{ outliers: { hostId: string; path: string; expected?: unknown; actual?: unknown }[] }>(
        '/api/v1/environments/production/outliers',
      )
    ).outliers;
  const hostFacts = async (id: string) =>
    (await aggregator.json<{ facts: Record<string, unknown> }>(`/api/v1/hosts/${id}`)).facts;
  const hostRows = async () => (await aggregator.json<{ hosts: ApiHostRow[] }>('/api/v1/hosts')).hosts;
  /** Hosts an event is about: its `hosts` (grouped events), else its `hostId`. */
  const eventHosts = (e: { hostId?: string; hosts?: unknown }): string[] => {
    if (Array.isArray(e.hosts)) return e.hosts.map(String).sort();
    return e.hostId ? [e.hostId] : [];
  };
  const webhookSummary = (from: number) =>
    receiver.since(from).map((d) => {
      const { kind, environment, otherEnvironment, hostId, hosts, path, resolution, emergency } = d.body.data;
      return {
        type: d.body.type,
        kind,
        environment,
        otherEnvironment,
        hostId,
        hosts,
        path,
        resolution,
        emergency,
        text: d.body.text,
      };
    });

  const openIds = async () => (await drift('open')).map((e) => e.id).sort();

  /**
   * Waits until as many webhooks as expected arrived since `from`, then QUIET_MS more (or until
   * `quietUntil`), and asserts they are exactly `expected` (`"<type> <data.path>"`, any order).
   */
  async function expectWebhooks(from: number, expected: string[], what: string, quietUntil?: number) {
    const line = (d: { body: { type: string; data: Record<string, unknown> } }) =>
      `${d.body.type} ${String(d.body.data.path ?? '')}`;
    await waitFor(() => receiver.deliveries.length - from >= expected.length, {
      timeoutMs: GROUP_WINDOW_MS + 15_000,
      intervalMs: 100,
      message: `${expected.length} webhook(s) for ${what}`,
    }).catch((error: Error) => {
      throw new Error(`${error.message}; got ${JSON.stringify(webhookSummary(from))}`);
    });
    await sleep(quietUntil === undefined ? QUIET_MS : Math.max(0, quietUntil - Date.now()));
    const got = receiver.since(from);
    expect(got.map(line).sort(), `webhooks for ${what}: ${JSON.stringify(webhookSummary(from), null, 1)}`).toEqual(
      [...expected].sort(),
    );
    return got;
  }

  // --- the application on a host ---------------------------------------------------------------
  async function startApp(hostId: string, appEnv: Record<string, string>): Promise<ManagedProcess> {
    const host = hosts.get(hostId) as NamespaceHost;
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/root', ...appEnv };
    const proc = host.spawn(process.execPath, [appScript, '--port', '8080'], {
      env,
      cwd: appTarget,
      name: `app ${hostId}`,
    });
    apps.set(hostId, proc);
    appEnvs.set(hostId, appEnv);
    return proc;
  }

  /** Restarts the host's application with a new environment (the agent keeps running). */
  async function restartApp(hostId: string, appEnv: Record<string, string>): Promise<void> {
    await apps.get(hostId)?.kill('SIGTERM');
    await startApp(hostId, appEnv);
  }

  /** Waits until the aggregator holds `value` (undefined: absent) at `path` for the host. */
  async function factLands(hostId: string, path: string, value: unknown) {
    await waitFor(
      async () => {
        const facts = await hostFacts(hostId);
        return value === undefined
          ? !Object.hasOwn(facts, path)
          : JSON.stringify(facts[path]) === JSON.stringify(value);
      },
      { timeoutMs: 15_000, intervalMs: 100, message: `${hostId} ${path} = ${JSON.stringify(value)}` },
    ).catch(async (error: Error) => {
      const facts = await hostFacts(hostId).catch(() => ({}) as Record<string, unknown>);
      const near = Object.entries(facts).filter(([p]) => p.startsWith(path.split('.').slice(0, 2).join('.')));
      throw new Error(`${error.message}; the aggregator has ${JSON.stringify(near)}`);
    });
  }

  beforeAll(async () => {
    receiver = await startWebhookReceiver({ secret: WEBHOOK_SECRET });
    const base = await makeTempDir('envparity-scenarios-');
    appTarget = join(base, 'srv-app');
    await mkdir(appTarget);
    appScript = join(base, 'scenario-api.js');
    await writeFile(appScript, APP_SCRIPT);

    // Package installs by other processes on this shared machine must not show up as drift: every
    // host reads one frozen copy of the dpkg database.
    const binds: { source: string; target: string }[] = [];
    if (existsSync('/var/lib/dpkg/status')) {
      const frozen = join(base, 'dpkg');
      await mkdir(join(frozen, 'updates'), { recursive: true });
      await copyFile('/var/lib/dpkg/status', join(frozen, 'status'));
      if (existsSync('/var/lib/dpkg/updates')) {
        for (const name of await readdir('/var/lib/dpkg/updates'))
          await copyFile(join('/var/lib/dpkg/updates', name), join(frozen, 'updates', name));
      }
      binds.push({ source: frozen, target: '/var/lib/dpkg' });
    }

    const configFile = join(base, 'aggregator.yaml');
    await writeFile(
      configFile,
      `${JSON.stringify(
        {
          promotion: ['staging', 'production'],
          environments: ['staging', 'production'],
          // Offline hosts keep counting in the baseline well past a restart.
          presence: { graceSeconds: 120 },
          secretPolicy: [{ glob: DB_PASSWORD, expect: 'differ' }],
          // Ports other processes on this shared test machine open are not the hosts' behavior.
          classes: [{ glob: 'network.listen.**', class: 'volatile' }],
          webhooks: [{ url: receiver.url, secret: WEBHOOK_SECRET }],
        },
        null,
        2,
      )}\n`,
    );
    aggregator = await startAggregator({ args: ['--config', configFile] });

    const startHost = async (id: string) => {
      const plan = PLAN.find((p) => p.id === id) as HostPlan;
      const source = await makeTempDir(`envparity-scenarios-${id}-`);
      await writeFile(join(source, 'package-lock.json'), packageLock(plan.leftPad));
      await writeFile(join(source, 'MIGRATION'), `${plan.schema}\n`);
      await writeFile(join(source, 'db-stats.json'), `${JSON.stringify({ orders: { rows: plan.rows } })}\n`);
      const host = await startNamespaceHost(id, [...binds, { source, target: appTarget }]);
      hosts.set(id, host);
      await startApp(id, plan.appEnv);
      const agent = await startNamespacedAgent(host, {
        aggregatorUrl: aggregator.url,
        hostId: id,
        environment: plan.environment,
        env: cleanEnv(),
        interval: 3600,
        config: {
          labels: { service: 'shop' },
          watch: {
            envVars: ['LOG_LEVEL', 'FEATURE_*', 'DB_*'],
            processes: [{ name: 'api', match: 'scenario-api\\.js' }],
            projects: [appTarget],
            probes: [
              { name: 'schema_version', command: `cat ${appTarget}/MIGRATION`, timeout: 5 },
              { name: 'db', command: `cat ${appTarget}/db-stats.json`, timeout: 5 },
            ],
          },
        },
      });
      agents.set(id, agent);
      agentConfigs.set(id, agent.configFile);
      await factLands(id, LOG_LEVEL, plan.appEnv.LOG_LEVEL);
    };
    // Production first, all at once; staging once production's baseline stands.
    await Promise.all(PRODS.map(startHost));
    await startHost('staging-1');
    await waitFor(
      async () => {
        const rows = await hostRows();
        return rows.length === 4 && rows.every((h) => h.online && h.fingerprint !== null);
      },
      { timeoutMs: 30_000, message: 'four hosts online with facts' },
    );
  }, 120_000);

  afterAll(async () => {
    await cleanupProcesses();
    await receiver?.close();
  });

  it('steady state: every planted finding, nothing else, one webhook per opened event', async () => {
    // Held events open after the grouping window: wait for the six, then judge everything.
    const events = await waitFor(
      async () => {
        const list = await drift();
        return list.length >= 6 ? list : undefined;
      },
      { timeoutMs: 25_000, message: 'six drift events' },
    ).catch(async (error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(await drift())}`);
    });

    // Environment pair: (1) partial update, (5) legacy schema, LOG_LEVEL drift; (3) scale; (4) no finding.
    const result = await compare();
    expect(statuses(result)).toEqual(
      sortedRecord([
        [LOG_LEVEL, 'drift'],
        [LEFT_PAD(), 'drift'],
        [LOCK_SHA(), 'drift'],
        [SCHEMA, 'drift'],
        [ROWS, 'scale'],
      ]),
    );
    const diff = byPath(result);
    expect(diff[LOG_LEVEL]).toMatchObject({ from: 'debug', to: 'info', category: 'process' });
    expect(diff[LEFT_PAD()]).toMatchObject({ from: '1.3.0', to: '1.1.0', category: 'app' });
    expect(diff[SCHEMA]).toMatchObject({ from: 42, to: 41, category: 'probe' });
    expect(diff[ROWS]).toMatchObject({ from: 1200, to: 5_000_000 });
    // (4) with `expect: differ`, differing hashes are no difference at all.
    expect(diff[DB_PASSWORD]).toBeUndefined();
    const staging = await hostFacts('staging-1');
    const prod = await hostFacts('prod-2');
    expect(staging[DB_PASSWORD]).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(prod[DB_PASSWORD]).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(staging[DB_PASSWORD]).not.toBe(prod[DB_PASSWORD]);
    expect(JSON.stringify(result)).not.toContain('canary');

    // (1) the partial update as a distribution: 1 of 3 production hosts.
    const distribution = await aggregator.json<{ values: { value: unknown; hosts: number }[] }>(
      `/api/v1/facts/distribution?path=${encodeURIComponent(LEFT_PAD())}&environment=production`,
    );
    expect(sortBy(distribution.values, (v) => String(v.value))).toEqual([
      { value: '1.1.0', hosts: 2 },
      { value: '1.3.0', hosts: 1 },
    ]);

    // Outliers: prod-1 (the partial update) and prod-3 (6), nothing else.
    const sha = (await hostFacts('prod-2'))[LOCK_SHA()];
    const prod1Sha = (await hostFacts('prod-1'))[LOCK_SHA()];
    expect(
      sortBy(await outliers(), (o) => `${o.hostId} ${o.path}`).map(({ hostId, path, expected, actual }) => ({
        hostId,
        path,
        expected,
        actual,
      })),
    ).toEqual(
      sortBy(
        [
          { hostId: 'prod-1', path: LEFT_PAD(), expected: '1.1.0', actual: '1.3.0' },
          { hostId: 'prod-1', path: LOCK_SHA(), expected: sha, actual: prod1Sha },
          { hostId: 'prod-3', path: LOG_LEVEL, expected: 'info', actual: 'warn' },
        ],
        (o) => `${o.hostId} ${o.path}`,
      ),
    );

    // Drift events: the four pair differences and one outlier group per cause, all open.
    expect(
      sortBy(events, (e) => `${e.kind} ${e.path}`).map((e) => ({
        kind: e.kind,
        status: e.status,
        path: e.path,
        hosts: eventHosts(e),
      })),
      JSON.stringify(events),
    ).toEqual(
      sortBy(
        [
          { kind: 'environment', status: 'open', path: LOG_LEVEL, hosts: ['prod-1', 'prod-2'] },
          { kind: 'environment', status: 'open', path: LEFT_PAD(), hosts: ['prod-2', 'prod-3'] },
          { kind: 'environment', status: 'open', path: LOCK_SHA(), hosts: ['prod-2', 'prod-3'] },
          { kind: 'environment', status: 'open', path: SCHEMA, hosts: ['prod-1', 'prod-2', 'prod-3'] },
          // An outlier group is named by its hosts' first path off the baseline (sorted): `lockfile` < `npm`.
          { kind: 'outlier', status: 'open', path: LOCK_SHA(), hosts: ['prod-1'] },
          { kind: 'outlier', status: 'open', path: LOG_LEVEL, hosts: ['prod-3'] },
        ],
        (e) => `${e.kind} ${e.path}`,
      ),
    );

    // Webhooks: exactly one `drift.opened` per event, each signed, no secret in clear.
    const deliveries = await expectWebhooks(
      0,
      events.map((e) => `drift.opened ${e.path}`),
      'the planted drift',
    );
    expect(deliveries.map((d) => d.body.data.id as string).sort()).toEqual(events.map((e) => e.id).sort());
    expect(deliveries.every((d) => d.signatureOk)).toBe(true);
    expect(deliveries.map((d) => d.raw).join('\n')).not.toContain('canary');
  });

  it('(7) an exception justifies the legacy schema until it expires; then it is drift again', async () => {
    const mark = receiver.deliveries.length;
    const reason = 'production migrates in the Sunday window';
    const expiresAt = new Date(Date.now() + EXCEPTION_SECONDS * 1000).toISOString();
    const response = await aggregator.api('/api/v1/exceptions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        path: SCHEMA,
        environments: ['staging', 'production'],
        reason,
        owner: 'platform',
        expiresAt,
      }),
    });
    expect(response.status, await response.clone().text()).toBe(201);
    const exception = (await response.json()) as { id: string };

    expect(byPath(await compare())[SCHEMA]).toMatchObject({
      status: 'justified',
      exception: { id: exception.id, reason },
    });
    // The pair event resolves, and the notification says why (not "no longer differs").
    // Nothing else until just before the expiry.
    const [resolved] = await expectWebhooks(
      mark,
      [`drift.resolved ${SCHEMA}`],
      'the exception',
      Date.parse(expiresAt) - 300,
    );
    expect(resolved?.body.data).toMatchObject({
      kind: 'environment',
      resolution: 'justified',
      exception: { id: exception.id },
    });
    expect(resolved?.body.text).toContain(`justified by exception ${exception.id}`);
    expect(resolved?.body.text).not.toMatch(/no longer differs/i);
    const open = await drift('open');
    expect(open.filter((e) => e.kind === 'environment' && e.path === SCHEMA)).toEqual([]);

    // Expiry: compare judges it as drift at once; the engine publishes the expiry and reopens the event.
    await sleep(Math.max(0, Date.parse(expiresAt) - Date.now()) + 100);
    expect(byPath(await compare())[SCHEMA]).toMatchObject({ status: 'drift', from: 42, to: 41 });
    await expectWebhooks(mark + 1, [`exception.expired ${SCHEMA}`, `drift.opened ${SCHEMA}`], 'the expiry');
    const reopened = (await drift('open')).filter((e) => e.kind === 'environment' && e.path === SCHEMA);
    expect(reopened).toHaveLength(1);
    expect(reopened[0]?.id).not.toBe(resolved?.body.data.id);
    const listed = await aggregator.json<{ exceptions: { id: string; expired?: boolean }[] }>('/api/v1/exceptions');
    expect(listed.exceptions.find((e) => e.id === exception.id)).toMatchObject({ expired: true });
  });

  it('(2) emergency hotfix on the 3 production hosts + (4) staging redeployed with the production secret: one webhook per cause, one per fix', async () => {
    const mark = receiver.deliveries.length;
    const openBefore = await openIds();
    const productionHash = (await hostFacts('prod-2'))[DB_PASSWORD];
    const stagingEnv = appEnvs.get('staging-1') as Record<string, string>;
    // Production: the hotfix flag, applied by hand on every host. Staging: a redeploy that picked
    // up the production database password by mistake.
    await Promise.all([
      ...PRODS.map((id) =>
        restartApp(id, { ...(appEnvs.get(id) as Record<string, string>), FEATURE_HOTFIX_RETRY: 'on' }),
      ),
      restartApp('staging-1', { ...stagingEnv, DB_PASSWORD: PRODUCTION_PASSWORD }),
    ]);
    await Promise.all([
      ...PRODS.map((id) => factLands(id, HOTFIX, 'on')),
      factLands('staging-1', DB_PASSWORD, productionHash),
    ]);

    const c = byPath(await compare());
    expect(c[HOTFIX]).toMatchObject({ status: 'drift', to: 'on', category: 'process' });
    expect(c[HOTFIX]?.from).toBeUndefined();
    expect(c[DB_PASSWORD]).toMatchObject({ status: 'secret-policy', from: productionHash, to: productionHash });
    expect(Object.keys(statuses(await compare())).sort()).toEqual(
      [DB_PASSWORD, HOTFIX, LOG_LEVEL, LEFT_PAD(), LOCK_SHA(), SCHEMA, ROWS].sort(),
    );

    // One drift.opened per cause: the hotfix on three hosts is ONE event, marked as an emergency.
    const deliveries = await expectWebhooks(
      mark,
      [`drift.opened ${HOTFIX}`, `drift.opened ${DB_PASSWORD}`],
      'the hotfix and the shared secret',
    );
    const hotfix = deliveries.find((d) => d.body.data.path === HOTFIX);
    expect(hotfix?.body.data).toMatchObject({
      kind: 'environment',
      environment: 'staging',
      otherEnvironment: 'production',
      actual: 'on',
      emergency: true,
      upstream: 'staging',
    });
    expect(hotfix?.body.data.expected).toBeUndefined();
    expect(eventHosts((hotfix?.body.data ?? {}) as { hosts?: unknown })).toEqual(PRODS);
    for (const id of PRODS) expect(hotfix?.body.text).toContain(id);
    const shared = deliveries.find((d) => d.body.data.path === DB_PASSWORD);
    expect(shared?.body.data).toMatchObject({ kind: 'environment', expected: productionHash, actual: productionHash });
    expect(shared?.body.text).toMatch(/secret/i);

    // Exactly those two events are new; nothing else opened or resolved.
    const openNow = await drift('open');
    const fresh = openNow.filter((e) => !openBefore.includes(e.id));
    expect(sortBy(fresh, (e) => e.path).map((e) => ({ path: e.path, hosts: eventHosts(e) }))).toEqual(
      sortBy(
        [
          { path: HOTFIX, hosts: PRODS },
          { path: DB_PASSWORD, hosts: PRODS },
        ],
        (e) => e.path,
      ),
    );
    expect(openBefore.filter((id) => !openNow.some((e) => e.id === id))).toEqual([]);
    // The hosts' timelines flag the hotfix as an emergency change.
    for (const id of PRODS) {
      const { changes } = await aggregator.json<{ changes: { path: string; to?: unknown; emergency?: boolean }[] }>(
        `/api/v1/hosts/${id}/changes`,
      );
      expect(
        changes.find((ch) => ch.path === HOTFIX && ch.to === 'on'),
        id,
      ).toMatchObject({ emergency: true });
    }
    // The outliers did not move: the hotfix is on every production host.
    expect((await outliers()).map((o) => `${o.hostId} ${o.path}`).sort()).toEqual(
      [`prod-1 ${LEFT_PAD()}`, `prod-1 ${LOCK_SHA()}`, `prod-3 ${LOG_LEVEL}`].sort(),
    );

    // The staging deploy brings the hotfix and its own secret back: one resolution per cause.
    const mark2 = receiver.deliveries.length;
    await restartApp('staging-1', { ...stagingEnv, FEATURE_HOTFIX_RETRY: 'on' });
    await factLands('staging-1', HOTFIX, 'on');
    const fixes = await expectWebhooks(
      mark2,
      [`drift.resolved ${HOTFIX}`, `drift.resolved ${DB_PASSWORD}`],
      'the fix in staging',
    );
    for (const fix of fixes) expect(fix.body.data).toMatchObject({ kind: 'environment', resolution: 'fixed' });
    const after = await compare();
    expect(byPath(after)[HOTFIX]).toBeUndefined();
    expect(byPath(after)[DB_PASSWORD]).toBeUndefined();
    expect(await openIds()).toEqual(openBefore);
  });

  let rolling: { mark: number; events: DriftRecord[]; statuses: Record<string, string>; endedAt: number };

  it('a rolling agent restart: offline hosts keep counting in the baseline', async () => {
    const mark = receiver.deliveries.length;
    const events = await drift();
    const before = statuses(await compare());
    for (const id of START_ORDER) {
      const agent = agents.get(id) as NamespacedAgent;
      await agent.stop();
      const stoppedAt = Date.now();
      // While it is down the host stays in its environment (offline, within the grace period).
      await waitFor(async () => (await hostRows()).find((h) => h.id === id)?.online === false, {
        timeoutMs: 5000,
        message: `${id} offline`,
      });
      const environments = await aggregator.json<{ name: string; hosts: number }[]>('/api/v1/environments');
      expect(environments.find((e) => e.name === 'production')?.hosts).toBe(3);
      expect(statuses(await compare())).toEqual(before);
      expect((await outliers()).map((o) => `${o.hostId} ${o.path}`).sort()).toEqual(
        [`prod-1 ${LEFT_PAD()}`, `prod-1 ${LOCK_SHA()}`, `prod-3 ${LOG_LEVEL}`].sort(),
      );
      // Down long enough for the engine to run a pass without it (250 ms after a presence change).
      await sleep(Math.max(0, stoppedAt + AGENT_DOWN_MS - Date.now()));
      agents.set(id, await agent.restart());
      await waitFor(async () => (await hostRows()).find((h) => h.id === id)?.online === true, {
        timeoutMs: 10_000,
        message: `${id} online again`,
      });
    }
    rolling = { mark, events, statuses: before, endedAt: Date.now() };
  });

  it('verify --against production from fresh CI state dirs (verify-scope token) registers nothing', async () => {
    const hostsBefore = (await hostRows()).map(({ id, environment, online, fingerprint }) => ({
      id,
      environment,
      online,
      fingerprint,
    }));
    const created = await aggregator.api('/api/v1/tokens', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ci-verify', scope: 'verify' }),
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const { token } = (await created.json()) as { token: string };
    const fleetKey = await fetch(new URL('/api/v1/fleet-key', aggregator.url), {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(fleetKey.status).toBe(200);

    const verifyOn = async (hostId: string, environment: string) => {
      const stateDir = await makeTempDir(`envparity-scenarios-ci-${hostId}-`);
      // A CI runner exports the enroll secret too (as the README does): verify must still not enroll.
      const env = { ...cleanEnv(), ENVPARITY_ENROLL_SECRET: aggregator.enrollSecret };
      const result = await (hosts.get(hostId) as NamespaceHost).run(
        process.execPath,
        [
          AGENT_BIN,
          'verify',
          '--against',
          'production',
          '--aggregator',
          aggregator.url,
          '--token',
          token,
          '--state-dir',
          stateDir,
          '--config',
          agentConfigs.get(hostId) as string,
          '--host-id',
          `ci-${hostId}`,
          '--environment',
          environment,
          '--format',
          'json',
        ],
        { env },
      );
      // No agent token: nothing was enrolled from this dir.
      expect(await readdir(stateDir).catch(() => [] as string[])).not.toContain('agent-token');
      return result;
    };

    const onProd2 = await verifyOn('prod-2', 'production');
    const onStaging = await verifyOn('staging-1', 'staging');
    // Neither run registered anything (asserted first: it is what the phase is about).
    const hostsAfter = (await hostRows()).map(({ id, environment, online, fingerprint }) => ({
      id,
      environment,
      online,
      fingerprint,
    }));
    expect(hostsAfter).toEqual(hostsBefore);
    expect(hostsAfter.map((h) => h.id).sort()).toEqual(['prod-1', 'prod-2', 'prod-3', 'staging-1']);

    // A conforming production host: parity, secrets hashed exactly like the fleet's agents.
    expect(onProd2.code, onProd2.stderr + onProd2.stdout).toBe(0);
    const report2 = JSON.parse(onProd2.stdout) as {
      passed: boolean;
      host: { id: string };
      differences: { path: string; status: string }[];
    };
    expect(report2.passed).toBe(true);
    expect(report2.host.id).toBe('ci-prod-2');
    expect(report2.differences.filter((d) => d.status === 'drift')).toEqual([]);

    expect(onStaging.code, onStaging.stderr).toBe(1);
    expect(onStaging.stdout + onProd2.stdout).not.toContain('canary');
    stagingVerify = onStaging.stdout;
  });

  let stagingVerify = '';

  it('verify from staging judges exactly like compare (secret policy included)', async () => {
    // Drift and scale as compare has them; the `differ` secret policy makes the differing
    // DB_PASSWORD hashes no difference at all.
    const report = JSON.parse(stagingVerify) as { passed: boolean; differences: { path: string; status: string }[] };
    expect(report.passed).toBe(false);
    expect(sortedRecord(report.differences.map((d) => [d.path, d.status] as [string, string]))).toEqual(
      statuses(await compare()),
    );
  });

  it('after the rolling restart and verify: no drift event opened or resolved, no webhook', async () => {
    // Anything the restarts made the engine see would open once the grouping window has passed.
    await sleep(Math.max(0, rolling.endedAt + GROUP_WINDOW_MS + 2500 - Date.now()));
    await expectWebhooks(rolling.mark, [], 'the rolling restart and verify');
    // The whole run: 6 planted + 1 justified + expiry and reopening (2) + 2 causes opened + 2 fixed.
    expect(receiver.deliveries).toHaveLength(13);
    expect(receiver.deliveries.every((d) => d.signatureOk)).toBe(true);
    expect(await drift()).toEqual(rolling.events);
    expect(statuses(await compare())).toEqual(rolling.statuses);
  });
});

function sortedRecord(entries: [string, string][]): Record<string, string> {
  return Object.fromEntries([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function sortBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  return [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
