/**
 * `verify` health checks end to end (issue 16): the BUILT agent bin as a real process against an
 * http server and a tcp port of this test on 127.0.0.1. A check that fails and then starts passing
 * while `--retry-timeout` waits, one that never passes (named in text, json and junit), and
 * `--checks` beside `--against` a live environment.
 */

import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createTcpServer, type Server as TcpServer } from 'node:net';
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

interface CheckJson {
  name: string;
  kind: string;
  ok: boolean;
  expected: string;
  actual: string;
  durationMs: number;
  attempts: number;
}
interface ReportJson {
  passed: boolean;
  summary: { drift: number };
  checks: CheckJson[];
}

const listen = (server: Server | TcpServer, port = 0) =>
  new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
const close = (server: Server | TcpServer) => new Promise((resolve) => server.close(resolve));

describe('verify health checks', () => {
  let dir: string;
  let http: Server;
  let base: string;
  let ready = false;
  let healthHits = 0;
  /** Reserved, then released: nothing listens until the test opens it. */
  let latePort: number;
  const late = createTcpServer((socket) => socket.end());
  const env = { ...process.env, NO_COLOR: '1' };

  beforeAll(async () => {
    dir = await makeTempDir('envparity-e2e-verify-checks-');
    http = createServer((request, response) => {
      if (request.url === '/health') {
        healthHits++;
        response.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ status: ready ? 'ok' : 'starting' }));
        return;
      }
      response.writeHead(503).end('maintenance');
    });
    base = `http://127.0.0.1:${await listen(http)}`;
    const probe = createTcpServer();
    latePort = await listen(probe);
    await close(probe);
  });

  afterAll(async () => {
    http.closeAllConnections();
    await close(http);
    if (late.listening) await close(late);
    await cleanupProcesses();
  });

  const write = async (name: string, text: string) => {
    const file = join(dir, name);
    await writeFile(file, text);
    return file;
  };
  const expectation = (checks: string) =>
    write(
      `expect-${Math.random().toString(36).slice(2)}.yaml`,
      `format: envparity/expectations/v1\nfacts:\n  os.platform: linux\nchecks:\n${checks}`,
    );
  const agentConfig = () =>
    write(
      'agent.yaml',
      `hostId: verifier\nwatch:\n  services:\n    - { name: late, type: tcp, host: 127.0.0.1, port: ${latePort}, banner: false }\n`,
    );

  it('a check that fails and then passes while --retry-timeout waits: exit 0 after several attempts', async () => {
    const file = await expectation(
      [
        `  - { name: api-health, http: "${base}/health", jsonPath: $.status, equals: ok }`,
        `  - { name: late-port, tcp: "127.0.0.1:${latePort}" }`,
        '  - { name: late-service, service: late }',
        '',
      ].join('\n'),
    );
    const config = await agentConfig();
    const args = ['verify', '--expect', file, '--config', config, '--state-dir', join(dir, 'state')];
    const running = runAgentCli([...args, '--retry-timeout', '40s', '--sleep', '200ms', '--format', 'json'], env);
    // The server comes up only after verify has tried (and failed) at least twice.
    await waitFor(() => healthHits >= 2, { timeoutMs: 30_000, message: 'two attempts at /health' });
    ready = true;
    await listen(late, latePort);
    const result = await running;
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as ReportJson;
    expect(report.passed).toBe(true);
    expect(report.checks.map((c) => [c.name, c.kind, c.ok])).toEqual([
      ['api-health', 'http', true],
      ['late-port', 'tcp', true],
      ['late-service', 'service', true],
    ]);
    for (const check of report.checks) expect(check.attempts, check.name).toBeGreaterThan(1);
    expect(report.checks[0]).toMatchObject({
      expected: 'status 200, $.status = "ok"',
      actual: 'status 200, $.status = "ok"',
    });
    // One progress line per attempt on stderr, naming what still failed.
    const progress = result.stderr.trim().split('\n');
    expect(progress[0]).toMatch(
      /^checks: attempt 1: 3 of 3 failing \(api-health: status 503, \$\.status = "starting"; /,
    );
    expect(progress.at(-1)).toMatch(/^checks: attempt \d+: all 3 passing$/);
    expect(progress).toHaveLength(report.checks[0]!.attempts);
  }, 60_000);

  it('a check that never passes: exit 1, named in text, json and junit', async () => {
    const file = await expectation(`  - { name: down-api, http: "${base}/maintenance" }\n  - { command: "true" }\n`);
    const config = await agentConfig();
    const args = ['verify', '--expect', file, '--config', config, '--state-dir', join(dir, 'state')];
    const retry = ['--retry-timeout', '1s', '--sleep', '200ms'];

    const text = await runAgentCli([...args, ...retry], env);
    expect(text.code, text.stderr).toBe(1);
    expect(text.stdout).toContain('  FAIL down-api (http)\n      expected status 200\n      actual   status 503\n');
    expect(text.stdout).toContain('  PASS command true (command)');
    expect(text.stdout).toMatch(/^FAIL: host verifier vs expectations .*: 0 drift, .*; checks: 1 of 2 failing$/m);
    expect(text.stderr).toMatch(/down-api: status 503\); retry timeout 1s reached\n$/);

    const json = await runAgentCli([...args, ...retry, '--format', 'json'], env);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as ReportJson;
    expect(report.passed).toBe(false);
    expect(report.summary.drift).toBe(0);
    const down = report.checks.find((c) => c.name === 'down-api');
    expect(down).toMatchObject({ kind: 'http', ok: false, expected: 'status 200', actual: 'status 503' });
    expect(down!.attempts).toBeGreaterThan(1);
    expect(report.checks.find((c) => c.name === 'command true')).toMatchObject({ ok: true, attempts: 1 });

    const junit = await runAgentCli([...args, '--format', 'junit'], env);
    expect(junit.code).toBe(1);
    expect(XMLValidator.validate(junit.stdout)).toBe(true);
    const suite = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(junit.stdout).testsuites
      .testsuite;
    const cases = [suite.testcase].flat() as { classname: string; name: string; failure?: { type: string } }[];
    expect(cases.map((c) => [c.classname, c.name, c.failure?.type ?? 'pass'])).toEqual([
      ['envparity.check.http', 'down-api', 'check'],
      ['envparity.check.command', 'command true', 'pass'],
      ['envparity', 'summary', 'check'],
    ]);
  });

  it('bad checks end with exit 2 naming the key', async () => {
    const config = await agentConfig();
    const cases: [string, RegExp][] = [
      ['  - { tcp: 127.0.0.1 }\n', /checks\[0\]\.tcp: expected host:port/],
      [
        '  - { tcp: "127.0.0.1:1", http: "http://127.0.0.1/" }\n',
        /checks\[0\]: a check has one kind, got http and tcp/,
      ],
      [
        '  - { service: nowhere }\n',
        /checks\[0\]\.service: no service "nowhere" in the agent config's watch\.services/,
      ],
    ];
    for (const [checks, message] of cases) {
      const result = await runAgentCli(['verify', '--expect', await expectation(checks), '--config', config], env);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stdout).toBe('');
    }
  });

  describe('--checks with --against a live environment', () => {
    let aggregator: AggregatorHandle;
    let token: string;
    let plainConfig: string;

    beforeAll(async () => {
      aggregator = await startAggregator();
      await startAgent({ aggregatorUrl: aggregator.url, hostId: 'prod-1', environment: 'production', config: {} });
      await waitFor(
        async () => {
          const body = await aggregator.json<{ hosts: { fingerprint: string | null }[] }>(
            '/api/v1/hosts?environment=production',
          );
          return body.hosts.length === 1 && body.hosts[0]?.fingerprint != null;
        },
        { timeoutMs: 30_000, message: 'the production host with facts' },
      );
      const response = await aggregator.api('/api/v1/tokens', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'e2e checks', scope: 'verify' }),
      });
      expect(response.status).toBe(201);
      token = ((await response.json()) as { token: string }).token;
      plainConfig = await write('plain.yaml', 'hostId: verifier\nenvironment: staging\n');
    }, 90_000);

    const against = (checksFile: string) =>
      runAgentCli(
        ['verify', '--against', 'production', '--aggregator', aggregator.url, '--config', plainConfig].concat([
          '--checks',
          checksFile,
          '--format',
          'json',
        ]),
        { ...env, ENVPARITY_TOKEN: token, ENVPARITY_STATE_DIR: join(dir, 'against-state') },
      );

    it('a failing check fails the run beside fact parity; passing checks pass it', async () => {
      const failing = await write('failing.yaml', `checks:\n  - { name: maintenance, http: "${base}/maintenance" }\n`);
      const bad = await against(failing);
      expect(bad.code, bad.stderr).toBe(1);
      const badReport = JSON.parse(bad.stdout) as ReportJson;
      expect(badReport.summary.drift).toBe(0);
      expect(badReport.checks).toMatchObject([{ name: 'maintenance', ok: false, actual: 'status 503', attempts: 1 }]);

      const host = base.replace('http://', '');
      const passing = await write('passing.yaml', `checks:\n  - { name: http-port, tcp: "${host}" }\n`);
      const good = await against(passing);
      expect(good.code, good.stdout + good.stderr).toBe(0);
      expect((JSON.parse(good.stdout) as ReportJson).checks).toMatchObject([{ name: 'http-port', ok: true }]);

      const extraKey = await write('extra.yaml', `checks: []\nfacts: {}\n`);
      const refused = await against(extraKey);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('extra.yaml: facts: unknown key (a checks file holds only checks:)');
    });
  });
});
