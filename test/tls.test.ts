/**
 * TLS end to end (issue 10 req 5): the BUILT aggregator with `serve --tls-cert --tls-key` and
 * BUILT agents as real processes on 127.0.0.1, with a throwaway CA made by openssl in this test.
 *
 * - an agent with `--ca` enrolls over wss:// and its host is listed by GET https://.../api/v1/hosts;
 * - `--server-fingerprint` with the right SHA-256 works, a wrong one is refused (never enrolls),
 *   logged as a TLS failure and retried with backoff, the agent running on;
 * - plain ws:// or http:// to a non-loopback address is refused before any connection (exit 2),
 *   checked with a preload that reports any non-loopback connect() (TEST-NET 192.0.2.1, never dialled);
 * - a key that does not match the certificate, or a missing file, stops the aggregator with exit 2.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AGGREGATOR_BIN,
  type AggregatorHandle,
  type ApiHost,
  cleanupProcesses,
  makeTempDir,
  runAgentCli,
  spawnManaged,
  startAgent,
  startAggregator,
  TEST_ENROLL_SECRET,
  waitFor,
} from './helpers/index.js';
import { createThrowawayCa, type ThrowawayCa } from './helpers/throwaway-ca.js';

let ca: ThrowawayCa;
beforeAll(() => {
  ca = createThrowawayCa('envparity-e2e-tls-');
});
afterAll(() => ca.remove());
afterEach(() => cleanupProcesses());

/** Keeps the agents light: no package databases or lockfiles to read, no full pass while the test runs. */
const AGENT_CONFIG = { disable: ['library', 'app'] };

interface HttpsAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** GET over https trusting only the throwaway CA (the global fetch cannot take a CA). */
function httpsGet(url: string, token?: string): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { ca: readFileSync(ca.caCert), agent: false, headers: token ? { authorization: `Bearer ${token}` } : {} },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function listedHosts(aggregator: AggregatorHandle): Promise<ApiHost[]> {
  const answer = await httpsGet(`${aggregator.url}/api/v1/hosts`, aggregator.adminToken);
  expect(answer.status).toBe(200);
  return (JSON.parse(answer.body) as { hosts: ApiHost[] }).hosts;
}

function startTlsAggregator(): Promise<AggregatorHandle> {
  return startAggregator({ args: ['--tls-cert', ca.serverCert, '--tls-key', ca.serverKey] });
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

describe('TLS between agent and aggregator (real processes)', () => {
  it('serves HTTPS and WSS on one port; an agent with --ca enrolls and is listed', async () => {
    const aggregator = await startTlsAggregator();
    expect(aggregator.url).toBe(`https://127.0.0.1:${aggregator.port}`);
    expect(aggregator.wsUrl).toBe(`wss://127.0.0.1:${aggregator.port}/api/v1/agent`);
    const tlsLine = aggregator.process.jsonLogs().find((line) => String(line.msg).startsWith('TLS: serving'));
    expect(tlsLine?.fingerprint256).toBe(ca.serverFingerprint);

    const health = await httpsGet(`${aggregator.url}/healthz`);
    expect(health.status).toBe(200);
    expect(health.headers['strict-transport-security']).toMatch(/^max-age=\d+/);

    const agent = await startAgent({
      aggregatorUrl: aggregator.url,
      hostId: 'tls-ca-1',
      environment: 'staging',
      config: AGENT_CONFIG,
      interval: 3600,
      args: ['--ca', ca.caCert],
    });
    await waitFor(
      async () => (await listedHosts(aggregator)).find((host) => host.id === 'tls-ca-1' && host.fingerprint !== null),
      { timeoutMs: 30_000, message: 'tls-ca-1 listed with facts' },
    );
    // Listed with a fingerprint: a report was stored (and acknowledged) over WSS.
    const detail = await httpsGet(`${aggregator.url}/api/v1/hosts/tls-ca-1`, aggregator.adminToken);
    expect(detail.status).toBe(200);
    expect((JSON.parse(detail.body) as { lastSeq: number }).lastSeq).toBeGreaterThan(0);
    expect(agent.process.running).toBe(true);
  });

  it('--server-fingerprint: the right one works, a wrong one is refused, logged and retried, never enrolled', async () => {
    const aggregator = await startTlsAggregator();
    const good = await startAgent({
      aggregatorUrl: aggregator.wsUrl,
      hostId: 'tls-pin-ok',
      environment: 'staging',
      config: AGENT_CONFIG,
      interval: 3600,
      // Another spelling than the aggregator prints: no colons, lower case.
      args: ['--ca', ca.caCert, '--server-fingerprint', ca.serverFingerprint.replace(/:/g, '').toLowerCase()],
    });
    await waitFor(async () => (await listedHosts(aggregator)).find((host) => host.id === 'tls-pin-ok'), {
      timeoutMs: 30_000,
      message: 'tls-pin-ok listed',
    });
    expect(good.process.running).toBe(true);

    const wrongPin = `${ca.serverFingerprint.slice(0, -2)}00`;
    const bad = await startAgent({
      aggregatorUrl: aggregator.wsUrl,
      hostId: 'tls-pin-wrong',
      environment: 'staging',
      config: AGENT_CONFIG,
      interval: 3600,
      waitConnected: false,
      args: ['--ca', ca.caCert, '--server-fingerprint', wrongPin],
    });
    // Three refusals in a row: logged each time, with backoff between them, the process running on.
    await waitFor(
      () =>
        bad.process.jsonLogs().filter((line) => String(line.msg).startsWith('TLS check of the aggregator failed'))
          .length >= 3,
      { timeoutMs: 20_000, message: 'three TLS refusals logged' },
    );
    const refusal = bad.process
      .jsonLogs()
      .find((line) => String(line.msg).startsWith('TLS check of the aggregator failed')) as Record<string, unknown>;
    expect(refusal.err).toBe(
      `the aggregator's certificate fingerprint ${ca.serverFingerprint} does not match --server-fingerprint ${wrongPin}`,
    );
    expect(bad.process.jsonLogs().some((line) => line.msg === 'reconnecting')).toBe(true);
    expect(bad.process.jsonLogs().some((line) => line.msg === 'connected to the aggregator')).toBe(false);
    expect(bad.process.running).toBe(true);
    expect(bad.process.logs.some((line) => line.includes('[stderr]') && /Error|at /.test(line))).toBe(false);
    // Never enrolled: no host on the aggregator, no token in the state dir.
    expect((await listedHosts(aggregator)).map((host) => host.id)).not.toContain('tls-pin-wrong');
    expect(await exists(join(bad.stateDir, 'agent-token'))).toBe(false);
  });

  it('refuses plain ws:// and http:// to a non-loopback address before any connection (exit 2)', async () => {
    // Any connect() to a non-loopback address is reported and the process ends at once (nothing is dialled).
    const dir = await makeTempDir('envparity-e2e-tls-guard-');
    const guard = join(dir, 'no-remote-connect.cjs');
    writeFileSync(
      guard,
      `const net = require('node:net');
const original = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  const options = typeof args[0] === 'object' && args[0] !== null ? (Array.isArray(args[0]) ? args[0][0] : args[0]) : { port: args[0], host: args[1] };
  const host = String(options.host ?? 'localhost');
  if (!/^(127\\.|::1$|localhost$|::ffff:127\\.)/.test(host) && !options.path) {
    process.stderr.write('CONNECT-ATTEMPT ' + host + ':' + options.port + '\\n');
    process.exit(99);
  }
  return original.apply(this, args);
};
`,
    );
    const env = { ...process.env, ENVPARITY_ENROLL_SECRET: TEST_ENROLL_SECRET, NODE_OPTIONS: `--require ${guard}` };
    for (const url of ['ws://192.0.2.1:7300', 'http://192.0.2.1:7300/api/v1/agent']) {
      const stateDir = join(dir, `state-${url.slice(0, 2)}`);
      const started = Date.now();
      const refused = await runAgentCli(
        ['run', '--aggregator', url, '--state-dir', stateDir, '--host-id', 'insecure-1', '--environment', 'staging'],
        env,
      );
      expect(refused.code, refused.stderr).toBe(2);
      expect(refused.stderr).toMatch(
        /^envparity-agent: --aggregator: refusing plain (ws|http):\/\/ to 192\.0\.2\.1:7300, which is not a loopback address: .*--allow-insecure\n$/,
      );
      expect(refused.stderr).not.toContain('CONNECT-ATTEMPT');
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(await exists(stateDir)).toBe(false);
    }

    // The guard does catch an attempt: with --allow-insecure the agent goes on and would dial 192.0.2.1.
    const allowed = await runAgentCli(
      [
        'run',
        '--aggregator',
        'ws://192.0.2.1:7300',
        '--allow-insecure',
        '--state-dir',
        join(dir, 'state-allowed'),
        '--host-id',
        'insecure-2',
        '--environment',
        'staging',
        '--log-level',
        'silent',
      ],
      env,
    );
    expect(allowed.stderr).toContain('CONNECT-ATTEMPT 192.0.2.1:7300');
    expect(allowed.code).toBe(99);

    // verify's HTTP calls follow the same rule.
    const verify = await runAgentCli(
      ['verify', '--against', 'production', '--aggregator', 'http://192.0.2.1:7300', '--token', 't'],
      env,
    );
    expect(verify.code).toBe(2);
    expect(verify.stderr).toMatch(/refusing plain http:\/\/ to 192\.0\.2\.1:7300/);
    expect(verify.stderr).not.toContain('CONNECT-ATTEMPT');
  });

  it('stops the aggregator with exit 2 and a clear line for a mismatched key or an unreadable file', async () => {
    const cases: Array<{ args: string[]; message: RegExp }> = [
      {
        args: ['--tls-cert', ca.serverCert, '--tls-key', ca.otherKey],
        message: /tls\.key: .*other-ca\.key does not belong to the certificate in .*server\.pem \(key mismatch\)/,
      },
      {
        args: ['--tls-cert', join(ca.dir, 'missing.pem'), '--tls-key', ca.serverKey],
        message: /tls\.cert: cannot read .*missing\.pem: ENOENT/,
      },
      { args: ['--tls-cert', ca.serverCert], message: /--tls-cert and --tls-key go together/ },
    ];
    for (const { args, message } of cases) {
      const dataDir = await makeTempDir('envparity-e2e-tls-data-');
      const proc = spawnManaged(
        process.execPath,
        [AGGREGATOR_BIN, 'serve', '--host', '127.0.0.1', '--port', '0', '--data', dataDir, ...args],
        { env: { ...process.env, ENVPARITY_ENROLL_SECRET: TEST_ENROLL_SECRET }, name: 'aggregator' },
      );
      const exit = await proc.exited;
      expect(exit.code, proc.tail()).toBe(2);
      expect(proc.logs.join('\n')).toMatch(message);
      expect(proc.jsonLogs().some((line) => line.msg === 'listening')).toBe(false);
    }
  });
});
