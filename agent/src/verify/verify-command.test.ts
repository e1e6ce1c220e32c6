/**
 * runVerify / runBaseline with the real collectors: where the fleet key comes from (state dir,
 * `GET /api/v1/fleet-key`, or nowhere), that nothing is enrolled or written, and which identity
 * the report names.
 */
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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
