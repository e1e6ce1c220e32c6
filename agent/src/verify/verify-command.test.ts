/**
 * runVerify / runBaseline with the real collectors: where the fleet key comes from (state dir,
 * `GET /api/v1/fleet-key`, or nowhere), that nothing is enrolled or written, and which identity
 * the report names.
 */
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateAgentConfig } from '@envparity/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveAgentIdentity } from '../daemon/state-store.js';
import { createSecretHasher } from '../secrets.js';
import { runBaseline, runVerify, type VerifyFlags } from './verify-command.js';

const VAR = 'EP_VERIFY_TEST_PASSWORD';
const SECRET = 'canary-do-not-print';
const STATE_KEY = 'state-dir-fleet-key';
const SERVED_KEY = 'served-fleet-key';
const config = validateAgentConfig({ watch: { envVars: [VAR] }, secrets: ['*PASSWORD*'] });
const hashWith = (key: string) => createSecretHasher(key, ['*PASSWORD*']).hash(SECRET);

function capture() {
  const out = { stdout: '', stderr: '' };
  return {
    out,
    io: {
      env: { NO_COLOR: '1' } as NodeJS.ProcessEnv,
      stdout: (text: string) => {
        out.stdout += text;
      },
      stderr: (text: string) => {
        out.stderr += text;
      },
      isTty: false,
    },
  };
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

describe('verify and baseline never enroll and take the fleet key from the state dir or the API', () => {
  let dir: string;
  let enrolledDir: string;
  let server: Server;
  let url: string;
  const requests: string[] = [];

  beforeAll(async () => {
    process.env[VAR] = SECRET;
    dir = await mkdtemp(join(tmpdir(), 'envparity-verify-cmd-'));
    enrolledDir = join(dir, 'enrolled');
    await mkdir(enrolledDir);
    await writeFile(join(enrolledDir, 'fleet.key'), `${STATE_KEY}\n`, { mode: 0o600 });
    await writeFile(join(enrolledDir, 'agent-token'), 'agent-token\n', { mode: 0o600 });
    await saveAgentIdentity(enrolledDir, { hostId: 'staging-1', environment: 'staging', labels: {} }, false);
    server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
      res.setHeader('content-type', 'application/json');
      if (req.url === '/api/v1/fleet-key' && req.headers.authorization === 'Bearer verify-token') {
        res.end(JSON.stringify({ fleetKey: SERVED_KEY }));
        return;
      }
      res.statusCode = 403;
      res.end(JSON.stringify({ error: { message: 'forbidden' } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    delete process.env[VAR];
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  const expectFile = async (name: string, facts: Record<string, string>) => {
    const file = join(dir, name);
    const lines = Object.entries(facts).map(([path, value]) => `  ${path}: ${JSON.stringify(value)}`);
    await writeFile(file, `format: envparity/expectations/v1\nfacts:\n${lines.join('\n')}\n`);
    return file;
  };
  const flags = (extra: Partial<VerifyFlags>): VerifyFlags => ({ format: 'json', ...extra });

  it('--expect beside an enrolled agent hashes secrets with its fleet key and names its identity', async () => {
    const file = await expectFile('secret.yaml', {
      [`config.env.${VAR}`]: hashWith(STATE_KEY),
      'os.platform': 'linux',
    });
    const { out, io } = capture();
    expect(await runVerify(config, flags({ expect: file, stateDir: enrolledDir }), io)).toBe(0);
    const report = JSON.parse(out.stdout);
    expect(report.host).toEqual({ id: 'staging-1', environment: 'staging' });
    expect(report.summary).toMatchObject({ checked: 2, pass: 2, drift: 0 });
    expect(out.stdout + out.stderr).not.toContain(SECRET);
    expect(out.stdout + out.stderr).not.toContain(STATE_KEY);
  });

  it('--host-id and --environment override the recorded identity', async () => {
    const file = await expectFile('plain.yaml', { 'os.platform': 'linux' });
    const { out, io } = capture();
    await runVerify(config, flags({ expect: file, stateDir: enrolledDir, hostId: 'ci-7', environment: 'perf' }), io);
    expect(JSON.parse(out.stdout).host).toEqual({ id: 'ci-7', environment: 'perf' });
  });

  it('--expect from a fresh dir: secret hashes in the file need a key; a file without them does not', async () => {
    const fresh = join(dir, 'fresh-expect');
    const file = await expectFile('secret-fresh.yaml', { [`config.env.${VAR}`]: hashWith(STATE_KEY) });
    const { io } = capture();
    io.env.ENVPARITY_ENROLL_SECRET = 'an-enroll-secret-that-must-be-ignored';
    const error = await runVerify(config, flags({ expect: file, stateDir: fresh, aggregator: url }), io).catch(
      (e: Error) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^no fleet key \(.*secret-fresh\.yaml holds secret hashes: config\.env\./);
    expect((error as Error).message).toContain('--token');
    expect((error as { code?: string }).code).toBe('VERIFY_ERROR');

    const plain = await expectFile('plain-fresh.yaml', { 'os.platform': 'linux' });
    const ok = capture();
    expect(await runVerify(config, flags({ expect: plain, stateDir: fresh }), ok.io)).toBe(0);
    // Nothing was enrolled or written: not even a state dir.
    expect(await exists(fresh)).toBe(false);
    expect(requests.some((r) => !r.includes('fleet-key'))).toBe(false);
  });

  it('--expect with a token fetches the fleet key from the aggregator (a ws:// URL works too)', async () => {
    const fresh = join(dir, 'fresh-token');
    const file = await expectFile('served.yaml', { [`config.env.${VAR}`]: hashWith(SERVED_KEY) });
    const { out, io } = capture();
    const code = await runVerify(
      config,
      flags({ expect: file, stateDir: fresh, aggregator: url.replace('http:', 'ws:'), token: 'verify-token' }),
      io,
    );
    expect(code, out.stdout).toBe(0);
    expect(requests.at(-1)).toBe('GET /api/v1/fleet-key Bearer verify-token');
    expect(out.stdout).not.toContain(SERVED_KEY);
    expect(await exists(fresh)).toBe(false);

    const forbidden = await runVerify(
      config,
      flags({ expect: file, stateDir: fresh, aggregator: url, token: 'read-token' }),
      capture().io,
    ).catch((e: Error) => e);
    expect((forbidden as Error).message).toMatch(/403 .*scope verify/);
  });

  it('--against from a fresh dir without a token fails before any request, saying what to pass', async () => {
    const before = requests.length;
    const { io } = capture();
    io.env.ENVPARITY_ENROLL_SECRET = 'an-enroll-secret-that-must-be-ignored';
    const error = await runVerify(
      config,
      flags({ against: 'production', aggregator: url, stateDir: join(dir, 'fresh-against') }),
      io,
    ).catch((e: Error) => e);
    expect((error as Error).message).toMatch(
      /^no fleet key: run beside an enrolled agent \(--state-dir DIR, now .*\) or pass --token T or ENVPARITY_TOKEN with a token of scope verify/,
    );
    expect(requests.length).toBe(before);
    // Beside an enrolled agent the key is there, but reading the baseline still needs a token.
    const noToken = await runVerify(
      config,
      flags({ against: 'production', aggregator: url, stateDir: enrolledDir }),
      capture().io,
    ).catch((e: Error) => e);
    expect((noToken as Error).message).toMatch(/--against needs an API token/);
  });

  it('baseline: secrets need the fleet key; with it they are written hashed, under the recorded identity', async () => {
    const fresh = join(dir, 'fresh-baseline');
    const error = await runBaseline(config, { stateDir: fresh }, capture().io).catch((e: Error) => e);
    expect((error as Error).message).toMatch(/^no fleet key \(this host has secrets to write as hashes: config\.env\./);
    expect(await exists(fresh)).toBe(false);

    // No secret among the watched facts: a baseline needs no key.
    const noSecrets = capture();
    await runBaseline(validateAgentConfig({}), { stateDir: fresh }, noSecrets.io);
    expect(noSecrets.out.stdout).toContain('format: envparity/expectations/v1');
    expect(await exists(fresh)).toBe(false);

    const out = join(dir, 'baseline.yaml');
    await runBaseline(config, { stateDir: enrolledDir, out }, capture().io);
    const text = await readFile(out, 'utf8');
    expect(text).toContain('hostId: staging-1');
    expect(text).toContain('environment: staging');
    expect(text).toContain(hashWith(STATE_KEY));
    expect(text).not.toContain(SECRET);

    const served = capture();
    await runBaseline(config, { stateDir: fresh, aggregator: url, token: 'verify-token', hostId: 'ci-1' }, served.io);
    expect(served.out.stdout).toContain('hostId: ci-1');
    expect(served.out.stdout).toContain(hashWith(SERVED_KEY));
  });
});

describe('verify runs health checks beside the facts', () => {
  let dir: string;
  let tcp: NetServer;
  let port: number;
  const plainConfig = () =>
    validateAgentConfig({ watch: { services: [{ name: 'port', type: 'tcp', host: '127.0.0.1', port }] } });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'envparity-verify-checks-'));
    tcp = createNetServer((socket) => socket.end());
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    port = (tcp.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => tcp.close(resolve));
    await rm(dir, { recursive: true, force: true });
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
  const run = (extra: Partial<VerifyFlags>, config = plainConfig()) => {
    const { out, io } = capture();
    return runVerify(config, { format: 'json', stateDir: join(dir, 'state'), ...extra }, io).then((code) => ({
      code,
      out,
    }));
  };

  it('exit 1 when a check fails even with fact parity; exit 0 when all pass', async () => {
    const failing = await expectation(`  - { tcp: "127.0.0.1:${port}" }\n  - { name: not ready, command: "exit 1" }\n`);
    const bad = await run({ expect: failing });
    expect(bad.code).toBe(1);
    const report = JSON.parse(bad.out.stdout);
    expect(report.summary).toMatchObject({ drift: 0, checked: 1 });
    expect(report.passed).toBe(false);
    expect(report.checks).toMatchObject([
      { name: `tcp 127.0.0.1:${port}`, kind: 'tcp', ok: true, attempts: 1 },
      { name: 'not ready', kind: 'command', ok: false, expected: 'exit 0', actual: 'exit 1', attempts: 1 },
    ]);
    const passing = await expectation(`  - { tcp: "127.0.0.1:${port}" }\n  - { command: "true" }\n`);
    const good = await run({ expect: passing, format: 'text' });
    expect(good.code, good.out.stdout).toBe(0);
    expect(good.out.stdout).toMatch(/^PASS: .*; checks: 2 passing$/m);
  });

  it('--checks adds a file of checks; names must stay unique across both files', async () => {
    const file = await expectation(`  - { name: one, command: "true" }\n`);
    const more = await write('more.yaml', `checks:\n  - { name: two, command: "echo hi", stdoutContains: hi }\n`);
    const { code, out } = await run({ expect: file, checks: more });
    expect(code, out.stdout).toBe(0);
    expect(JSON.parse(out.stdout).checks.map((c: { name: string }) => c.name)).toEqual(['one', 'two']);
    const clash = await write('clash.yaml', `checks:\n  - { name: one, command: "true" }\n`);
    await expect(run({ expect: file, checks: clash })).rejects.toThrow(
      /clash\.yaml: checks\[0\]\.name: duplicate name "one"/,
    );
  });

  it('exit 2 for a bad checks file, an unknown service and a bad duration flag, naming them', async () => {
    const file = await expectation(`  - { command: "true" }\n`);
    const badKind = await write('bad-kind.yaml', 'checks:\n  - { ping: 10.0.0.1 }\n');
    const refusals = [
      run({ expect: file, checks: badKind }),
      run({ expect: await expectation(`  - { service: db }\n`) }),
      run({ expect: file, retryTimeout: 'soon' }),
      run({ expect: file, checks: join(dir, 'missing.yaml') }),
    ];
    const messages = await Promise.all(
      refusals.map((p) =>
        p.then(
          () => 'resolved',
          (e: Error & { code?: string }) => `${e.code} ${e.message}`,
        ),
      ),
    );
    expect(messages[0]).toMatch(
      /^VERIFY_ERROR .*bad-kind\.yaml: checks\[0\]: unknown check kind: expected one of http, tcp, command, service, got "ping"$/,
    );
    expect(messages[1]).toMatch(
      /^VERIFY_ERROR .*checks\[0\]\.service: no service "db" in the agent config's watch\.services \(declared: port\)$/,
    );
    expect(messages[2]).toBe('VERIFY_ERROR --retry-timeout: expected a duration such as 500ms, 2s, 1m, got "soon"');
    expect(messages[3]).toMatch(/^VERIFY_ERROR cannot read .*missing\.yaml/);
  });

  it('--retry-timeout re-runs a failing check until it passes and says so on stderr', async () => {
    // Counts its runs in a file: fails twice, passes from the third attempt on.
    const counter = join(dir, 'attempts');
    const command = `n=$(cat ${counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${counter}; [ $n -ge 3 ]`;
    const file = await expectation(`  - { name: warm-up, command: ${JSON.stringify(command)} }\n`);
    const { out, io } = capture();
    const code = await runVerify(
      plainConfig(),
      { format: 'json', stateDir: join(dir, 'state'), expect: file, retryTimeout: '30s', sleep: '50ms' },
      io,
    );
    expect(code, out.stdout + out.stderr).toBe(0);
    expect(JSON.parse(out.stdout).checks).toMatchObject([{ name: 'warm-up', ok: true, attempts: 3 }]);
    expect(out.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^checks: attempt 1: 1 of 1 failing \(warm-up: exit 1\); retrying in 50ms/),
      expect.stringMatching(/^checks: attempt 2: 1 of 1 failing/),
      'checks: attempt 3: all 1 passing',
    ]);
  });
});
