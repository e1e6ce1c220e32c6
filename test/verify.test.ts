/**
 * `envparity-agent verify` end to end (issue 6): the BUILT bins as real processes on 127.0.0.1. Three
 * production agents report a watched env var; verify runs as a separate process with its own state
 * dir (it enrolls once for the fleet key) and is judged against production's live baseline.
 */
import { readFile, writeFile } from 'node:fs/promises';
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

describe('verify against a live environment', () => {
  let aggregator: AggregatorHandle;
  let verifyConfig: string;
  let baseEnv: NodeJS.ProcessEnv;

  beforeAll(async () => {
    aggregator = await startAggregator();
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
    baseEnv = {
      ...process.env,
      ENVPARITY_TOKEN: aggregator.adminToken,
      ENVPARITY_ENROLL_SECRET: aggregator.enrollSecret,
      ENVPARITY_STATE_DIR: join(dir, 'state'),
      NO_COLOR: '1',
    };
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

  it('exits 0 on a host that matches, with secrets compared through their keyed hashes', async () => {
    const result = await verify({ FEATURE_CHECKOUT: 'v2', FEATURE_SEARCH: 'on', APP_PASSWORD: 'hunter2-canary' });
    expect(result.stderr).not.toContain('warning');
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^PASS: host verifier vs environment production: 0 drift/m);
    expect(result.stdout + result.stderr).not.toContain('hunter2-canary');
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
    const cases = parsed.testsuites.testsuite.testcase as { name: string; failure?: unknown }[];
    expect(cases.length).toBeGreaterThan(100);
    expect(cases.filter((c) => c.failure).map((c) => c.name)).toEqual([
      'config.env.APP_PASSWORD',
      'config.env.FEATURE_CHECKOUT',
    ]);
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
  });

  it('exits 2 when the aggregator is down', async () => {
    await aggregator.stop();
    const result = await verify({});
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/aggregator unreachable/);
  });
});
