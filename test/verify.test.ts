/**
 * `envparity-agent verify` end to end (issues 6 and 9): the BUILT bins as real processes on
 * 127.0.0.1. Three production agents report a watched env var; verify runs as a separate process
 * from a fresh CI state dir and is judged against production's live baseline. It never enrolls:
 * the fleet key comes from `GET /api/v1/fleet-key` with a verify-scope token (or from the state dir
 * of an agent running beside it), and `GET /api/v1/hosts` is the same before and after.
 */
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AggregatorHandle,
  cleanupProcesses,
  makeTempDir,
  runAgentCli,
  startAgent,
  startAggregator,
  waitFor,
} from './helpers/index.js';

const WATCH = { envVars: ['FEATURE_*', 'APP_PASSWORD'] };

interface HostsBody {
  hosts: { id: string; environment: string | null }[];
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

describe('verify against a live environment', () => {
  let aggregator: AggregatorHandle;
  let verifyConfig: string;
  let baseEnv: NodeJS.ProcessEnv;
  let ciStateDir: string;
  let verifyToken: string;
  let readToken: string;
  /** The fleet as `GET /api/v1/hosts` lists it: ids and environments, sorted. */
  const fleet = async () =>
    (await aggregator.json<HostsBody>('/api/v1/hosts')).hosts
      .map((h) => `${h.id}@${h.environment ?? ''}`)
      .sort()
      .join(',');
  let fleetBefore: string;
  const createToken = async (scope: string) => {
    const response = await aggregator.api('/api/v1/tokens', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: `e2e ${scope}`, scope }),
    });
    expect(response.status, await response.clone().text()).toBe(201);
    return ((await response.json()) as { token: string }).token;
  };

  beforeAll(async () => {
    // staging is declared, not reported: verify never enrolls, so no staging host exists until one runs.
    const aggregatorConfig = join(await makeTempDir('envparity-e2e-verify-aggregator-'), 'aggregator.yaml');
    await writeFile(aggregatorConfig, 'environments: [staging, production]\n');
    aggregator = await startAggregator({ args: ['--config', aggregatorConfig] });
    const agentEnv = { ...process.env, FEATURE_CHECKOUT: 'v2', FEATURE_SEARCH: 'on', APP_PASSWORD: 'hunter2-canary' };
    for (const hostId of ['prod-1', 'prod-2', 'prod-3']) {
      await startAgent({
        aggregatorUrl: aggregator.url,
        hostId,
        environment: 'production',
        config: { watch: WATCH },
        env: agentEnv,
      });
    }
    await waitFor(
      async () => {
        const body = await aggregator.json<{ hosts: { fingerprint: string | null; online: boolean }[] }>(
          '/api/v1/hosts?environment=production',
        );
        return body.hosts.length === 3 && body.hosts.every((h) => h.online && h.fingerprint !== null);
      },
      { timeoutMs: 30_000, message: 'three production hosts with facts' },
    );
    const dir = await makeTempDir('envparity-e2e-verify-');
    verifyConfig = join(dir, 'agent.yaml');
    await writeFile(
      verifyConfig,
      `environment: staging\nhostId: verifier\nwatch:\n  envVars: ["FEATURE_*", "APP_PASSWORD"]\n`,
    );
    verifyToken = await createToken('verify');
    readToken = await createToken('read');
    ciStateDir = join(dir, 'state');
    // A CI runner as the README sets one up: the enroll secret is exported (verify must ignore it),
    // the API token has the verify scope, and the state dir is fresh.
    baseEnv = {
      ...process.env,
      ENVPARITY_TOKEN: verifyToken,
      ENVPARITY_ENROLL_SECRET: aggregator.enrollSecret,
      ENVPARITY_STATE_DIR: ciStateDir,
      NO_COLOR: '1',
    };
    fleetBefore = await fleet();
    expect(fleetBefore).toBe('prod-1@production,prod-2@production,prod-3@production');
  }, 90_000);

  afterAll(() => cleanupProcesses());

  const verify = (env: NodeJS.ProcessEnv, extra: string[] = []) =>
    runAgentCli(
      ['verify', '--against', 'production', '--aggregator', aggregator.url, '--config', verifyConfig, ...extra],
      {
        ...baseEnv,
        ...env,
      },
    );

  it('from a fresh dir with the enroll secret but no token: exit 2 saying what to pass, nothing enrolled', async () => {
    const result = await verify({ ENVPARITY_TOKEN: '', APP_PASSWORD: 'hunter2-canary' });
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/no fleet key: run beside an enrolled agent \(--state-dir DIR/);
    expect(result.stderr).toContain('--token T or ENVPARITY_TOKEN with a token of scope verify');
    expect(result.stdout).toBe('');
    expect(await fleet()).toBe(fleetBefore);
    expect(await exists(ciStateDir)).toBe(false);
  });

  it('a read token cannot fetch the fleet key: exit 2 naming the verify scope', async () => {
    const result = await verify({ ENVPARITY_TOKEN: readToken, APP_PASSWORD: 'hunter2-canary' });
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(result.stderr).toMatch(/403 .*fleet-key.*scope verify/);
    expect(await fleet()).toBe(fleetBefore);
  });

  it('exits 0 on a host that matches, with secrets compared through their keyed hashes', async () => {
    const result = await verify({ FEATURE_CHECKOUT: 'v2', FEATURE_SEARCH: 'on', APP_PASSWORD: 'hunter2-canary' });
    expect(result.stderr).not.toContain('warning');
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^PASS: host verifier vs environment production: 0 drift/m);
    expect(result.stdout + result.stderr).not.toContain('hunter2-canary');
    // The verify token fetched the fleet key; nothing was enrolled or written.
    expect(await fleet()).toBe(fleetBefore);
    expect(await exists(ciStateDir)).toBe(false);
  });

  it('exits 1 naming exactly the drifted paths, in every format', async () => {
    const env = { FEATURE_CHECKOUT: 'v1', FEATURE_SEARCH: 'on', APP_PASSWORD: 'other-canary' };
    const text = await verify(env);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('DRIFT config.env.FEATURE_CHECKOUT');
    expect(text.stdout).toContain('DRIFT config.env.APP_PASSWORD');

    const json = await verify(env, ['--format', 'json']);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as {
      passed: boolean;
      differences: { path: string; status: string; expected: string; actual: string }[];
    };
    expect(report.passed).toBe(false);
    expect(report.differences.filter((d) => d.status === 'drift').map((d) => d.path)).toEqual([
      'config.env.APP_PASSWORD',
      'config.env.FEATURE_CHECKOUT',
    ]);
    const password = report.differences.find((d) => d.path === 'config.env.APP_PASSWORD');
    expect(password?.expected).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(json.stdout).not.toContain('canary');

    const junitFile = join(await makeTempDir('envparity-e2e-junit-'), 'envparity.xml');
    const junit = await verify(env, ['--format', 'junit', '--out', junitFile]);
    expect(junit.code).toBe(1);
    const xml = await readFile(junitFile, 'utf8');
    expect(XMLValidator.validate(xml)).toBe(true);
    const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml);
    const suite = parsed.testsuites.testsuite;
    const cases = [suite.testcase].flat() as { name: string; classname: string; failure?: unknown }[];
    // One testcase per difference plus the summary, never one per fact.
    expect(cases).toHaveLength(report.differences.length + 1);
    expect(Number(suite.tests)).toBe(report.differences.length + 1);
    expect(cases.map((c) => c.name)).toEqual([...report.differences.map((d) => d.path), 'summary']);
    expect(cases.filter((c) => c.failure).map((c) => c.name)).toEqual([
      'config.env.APP_PASSWORD',
      'config.env.FEATURE_CHECKOUT',
      'summary',
    ]);
    expect(xml).not.toContain('canary');

    const perCategory = await verify(env, ['--format', 'junit', '--junit-per', 'category']);
    expect(perCategory.code).toBe(1);
    expect(XMLValidator.validate(perCategory.stdout)).toBe(true);
    const categoryCases = [
      new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(perCategory.stdout).testsuites.testsuite
        .testcase,
    ].flat() as { name: string; failure?: unknown }[];
    expect(categoryCases.at(-1)?.name).toBe('summary');
    expect(categoryCases.length).toBeLessThan(20);
    expect(categoryCases.filter((c) => c.failure).map((c) => c.name)).toEqual(['config', 'summary']);
    expect(await fleet()).toBe(fleetBefore);
  });

  it("an exception covering this host's environment and the target makes the difference justified", async () => {
    const created = await aggregator.api('/api/v1/exceptions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        path: 'config.env.FEATURE_*',
        environments: ['staging', 'production'],
        reason: 'staging tries the next checkout first',
      }),
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const { id } = (await created.json()) as { id: string };
    try {
      const result = await verify({ FEATURE_CHECKOUT: 'v1', FEATURE_SEARCH: 'on', APP_PASSWORD: 'hunter2-canary' }, [
        '--format',
        'json',
      ]);
      expect(result.code).toBe(0);
      const report = JSON.parse(result.stdout) as {
        differences: { path: string; status: string; exception?: { id: string } }[];
      };
      expect(report.differences).toEqual([
        expect.objectContaining({
          path: 'config.env.FEATURE_CHECKOUT',
          status: 'justified',
          exception: expect.objectContaining({ id }),
        }),
      ]);
    } finally {
      await aggregator.api(`/api/v1/exceptions/${id}`, { method: 'DELETE' });
    }
  });

  it('--fail-on limits which categories fail the run', async () => {
    const result = await verify({ FEATURE_CHECKOUT: 'v1', FEATURE_SEARCH: 'on', APP_PASSWORD: 'hunter2-canary' }, [
      '--fail-on',
      'os,library',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('drift config.env.FEATURE_CHECKOUT');
  });

  it('exits 2 with a one-line reason for an unknown environment and for a missing token', async () => {
    const unknown = await runAgentCli(
      ['verify', '--against', 'nowhere', '--aggregator', aggregator.url, '--config', verifyConfig],
      baseEnv,
    );
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    expect(unknown.stderr).toContain('404');
    const noToken = await verify({ ENVPARITY_TOKEN: '' });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('token');
    expect(await fleet()).toBe(fleetBefore);
  });

  it("beside a running agent: its state dir's fleet key and identity, no token needed for the key", async () => {
    const agent = await startAgent({
      aggregatorUrl: aggregator.url,
      hostId: 'staging-1',
      environment: 'staging',
      config: { watch: WATCH },
      env: { FEATURE_CHECKOUT: 'v1', FEATURE_SEARCH: 'on', APP_PASSWORD: 'hunter2-canary' },
    });
    const withDaemon = 'prod-1@production,prod-2@production,prod-3@production,staging-1@staging';
    await waitFor(async () => (await fleet()) === withDaemon, { timeoutMs: 20_000, message: 'staging-1 listed' });
    // A config without hostId or environment: the report names what the daemon runs as.
    const plainConfig = join(await makeTempDir('envparity-e2e-verify-plain-'), 'agent.yaml');
    await writeFile(plainConfig, `watch:\n  envVars: ["FEATURE_*", "APP_PASSWORD"]\n`);
    const env = { ...baseEnv, FEATURE_CHECKOUT: 'v1', FEATURE_SEARCH: 'on', APP_PASSWORD: 'hunter2-canary' };
    const args = ['--against', 'production', '--aggregator', aggregator.wsUrl, '--config', plainConfig];
    const result = await runAgentCli(['verify', ...args, '--state-dir', agent.stateDir, '--format', 'json'], {
      ...env,
      ENVPARITY_TOKEN: readToken,
    });
    expect(result.code, result.stderr).toBe(1);
    const report = JSON.parse(result.stdout) as { host: unknown; differences: { path: string; status: string }[] };
    expect(report.host).toEqual({ id: 'staging-1', environment: 'staging' });
    // The secret hashes with the daemon's fleet key, so the same password is no difference.
    expect(report.differences.filter((d) => d.status !== 'scale').map((d) => `${d.path}:${d.status}`)).toEqual([
      'config.env.FEATURE_CHECKOUT:drift',
    ]);

    // --host-id / --environment override what the daemon recorded.
    const named = await runAgentCli(
      ['verify', ...args, '--state-dir', agent.stateDir, '--host-id', 'ci-check', '--format', 'json'],
      { ...env, ENVPARITY_TOKEN: readToken },
    );
    expect((JSON.parse(named.stdout) as { host: unknown }).host).toEqual({ id: 'ci-check', environment: 'staging' });

    // baseline beside the daemon needs no token at all and writes the fleet's hash of the secret.
    const baseline = await runAgentCli(['baseline', '--config', plainConfig, '--state-dir', agent.stateDir], {
      ...env,
      ENVPARITY_TOKEN: '',
    });
    expect(baseline.code, baseline.stderr).toBe(0);
    expect(baseline.stdout).toContain('hostId: staging-1');
    expect(baseline.stdout).toContain('environment: staging');
    const production = await aggregator.json<{ facts: Record<string, unknown> }>(
      '/api/v1/environments/production/baseline',
    );
    const hash = production.facts['config.env.APP_PASSWORD'] as string;
    expect(hash).toMatch(/^hmac-sha256:/);
    expect(baseline.stdout).toContain(hash);
    expect(baseline.stdout).not.toContain('hunter2-canary');

    // baseline from the fresh CI dir without a token: the secret would need the fleet key.
    const fresh = await runAgentCli(['baseline', '--config', plainConfig], { ...env, ENVPARITY_TOKEN: '' });
    expect(fresh.code).toBe(2);
    expect(fresh.stderr).toMatch(
      /no fleet key \(this host has secrets to write as hashes: config\.env\.APP_PASSWORD\)/,
    );
    const fetched = await runAgentCli(['baseline', '--config', plainConfig, '--aggregator', aggregator.url], env);
    expect(fetched.code, fetched.stderr).toBe(0);
    expect(fetched.stdout).toContain(hash);

    expect(await fleet()).toBe(withDaemon);
    expect(await exists(ciStateDir)).toBe(false);
    await agent.stop();
  });

  it('exits 2 when the aggregator is down', async () => {
    await aggregator.stop();
    const result = await verify({});
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/aggregator unreachable/);
  });
});

describe('verify applies the aggregator secretPolicy like /compare', () => {
  let aggregator: AggregatorHandle;
  let verifyConfig: string;
  let token: string;

  beforeAll(async () => {
    const dir = await makeTempDir('envparity-e2e-verify-policy-');
    const aggregatorConfig = join(dir, 'aggregator.yaml');
    await writeFile(
      aggregatorConfig,
      'environments: [staging, production]\nsecretPolicy:\n  - { glob: "config.env.DB_PASSWORD", expect: differ }\n',
    );
    aggregator = await startAggregator({ args: ['--config', aggregatorConfig] });
    await startAgent({
      aggregatorUrl: aggregator.url,
      hostId: 'prod-db-1',
      environment: 'production',
      config: { watch: { envVars: ['DB_PASSWORD'] } },
      env: { ...process.env, DB_PASSWORD: 'production-only-secret' },
    });
    await waitFor(
      async () => {
        const body = await aggregator.json<{ hosts: { fingerprint: string | null }[] }>(
          '/api/v1/hosts?environment=production',
        );
        return body.hosts.length === 1 && body.hosts[0]?.fingerprint != null;
      },
      { timeoutMs: 30_000, message: 'the production host with facts' },
    );
    verifyConfig = join(dir, 'agent.yaml');
    await writeFile(verifyConfig, 'environment: staging\nhostId: stage-db-1\nwatch:\n  envVars: [DB_PASSWORD]\n');
    const response = await aggregator.api('/api/v1/tokens', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'e2e policy', scope: 'verify' }),
    });
    expect(response.status).toBe(201);
    token = ((await response.json()) as { token: string }).token;
  }, 90_000);

  afterAll(() => cleanupProcesses());

  const verify = (password: string) =>
    runAgentCli(
      [
        'verify',
        '--against',
        'production',
        '--aggregator',
        aggregator.url,
        '--config',
        verifyConfig,
        '--format',
        'json',
      ],
      {
        ...process.env,
        DB_PASSWORD: password,
        ENVPARITY_TOKEN: token,
        ENVPARITY_STATE_DIR: join(verifyConfig, '..', `state-${password}`),
        NO_COLOR: '1',
      },
    );

  it('a staging secret that differs from production, as the policy wants: exit 0, no drift', async () => {
    const result = await verify('staging-own-secret');
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { summary: { drift: number; secretPolicy: number } };
    expect(report.summary.drift).toBe(0);
    expect(report.summary.secretPolicy).toBe(0);
  });

  it('staging holding the production secret: exit 1 with status secret-policy', async () => {
    const result = await verify('production-only-secret');
    expect(result.code, result.stderr).toBe(1);
    const report = JSON.parse(result.stdout) as { differences: { path: string; status: string }[] };
    const db = report.differences.find((d) => d.path === 'config.env.DB_PASSWORD');
    expect(db?.status).toBe('secret-policy');
    expect(report.differences.filter((d) => d.status === 'drift')).toEqual([]);
  });
});
