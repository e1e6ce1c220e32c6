/**
 * The bin as operators run it: a real process (the built dist/, as `npm ci` leaves it), its stdout
 * log lines, signals and exit codes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/envparity-aggregator.js', import.meta.url));
const BUILT = existsSync(fileURLToPath(new URL('../dist/cli.js', import.meta.url)));

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

function run(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ENVPARITY_ENROLL_SECRET: '', ENVPARITY_ADMIN_TOKEN: '', ENVPARITY_FLEET_KEY: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk) => {
    out += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    err += chunk;
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exit };
}

async function waitForLine(r: Run, msg: string, timeoutMs = 10_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const line of r.stdout().split('\n')) {
      if (!line.startsWith('{')) continue;
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (parsed.msg === msg) return parsed;
    }
    if (r.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no "${msg}" line; stdout: ${r.stdout()} stderr: ${r.stderr()}`);
}

let dir: string;
const running: Run[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'envparity-cli-'));
});
afterEach(() => {
  for (const r of running.splice(0)) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!BUILT)('envparity-aggregator serve', () => {
  it('listens on port 0, prints where the generated secrets are, and exits 0 on SIGTERM', async () => {
    const data = join(dir, 'data');
    const r = run(['serve', '--port', '0', '--data', data, '--log-level', 'warn']);
    running.push(r);
    const listening = await waitForLine(r, 'listening');
    expect(listening.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(listening.port).not.toBe(0);
    const health = await fetch(`${listening.url}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok' });

    for (const file of ['enroll-secret', 'admin-token', 'fleet.key']) {
      const path = join(data, file);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(r.stdout()).toContain(path);
      expect(r.stdout()).not.toContain(readFileSync(path, 'utf8').trim());
    }
    const admin = readFileSync(join(data, 'admin-token'), 'utf8').trim();
    const hosts = await fetch(`${listening.url}/api/v1/hosts`, { headers: { authorization: `Bearer ${admin}` } });
    expect(await hosts.json()).toEqual({ hosts: [] });
    expect(existsSync(join(data, 'envparity.db'))).toBe(true);

    r.child.kill('SIGTERM');
    expect(await r.exit).toBe(0);
  });

  it('takes secrets from the environment without writing or printing them', async () => {
    const data = join(dir, 'data');
    const r = run(['serve', '--port', '0', '--data', data], {
      ENVPARITY_ENROLL_SECRET: 'env-enroll-secret-value',
      ENVPARITY_ADMIN_TOKEN: 'env-admin-token-value',
    });
    running.push(r);
    const listening = await waitForLine(r, 'listening');
    const hosts = await fetch(`${listening.url}/api/v1/hosts`, {
      headers: { authorization: 'Bearer env-admin-token-value' },
    });
    expect(hosts.status).toBe(200);
    expect(existsSync(join(data, 'enroll-secret'))).toBe(false);
    expect(existsSync(join(data, 'admin-token'))).toBe(false);
    r.child.kill('SIGINT');
    expect(await r.exit).toBe(0);
    expect(r.stdout()).not.toContain('env-enroll-secret-value');
    expect(r.stdout()).not.toContain('env-admin-token-value');
  });

  it('exits 2 on a config error naming the key, and on bad flags', async () => {
    const config = join(dir, 'aggregator.yaml');
    writeFileSync(config, 'prot: 7300\n');
    const bad = run(['serve', '--config', config, '--data', join(dir, 'd')]);
    expect(await bad.exit).toBe(2);
    expect(bad.stderr()).toContain('prot: unknown key');

    const badPort = run(['serve', '--port', 'http']);
    expect(await badPort.exit).toBe(2);
    const nothing = run([]);
    expect(await nothing.exit).toBe(2);
  });

  it('--version prints the package version and exits 0; log lines carry ISO timestamps', async () => {
    const version = JSON.parse(
      readFileSync(fileURLToPath(new URL('../package.json', import.meta.url)), 'utf8'),
    ).version;
    for (const flag of ['--version', '-V']) {
      const r = run([flag]);
      expect(await r.exit).toBe(0);
      expect(r.stdout().trim()).toBe(version);
    }
    const r = run(['serve', '--port', '0', '--data', join(dir, 'data')]);
    running.push(r);
    const listening = await waitForLine(r, 'listening');
    expect(listening.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    r.child.kill('SIGTERM');
    expect(await r.exit).toBe(0);
  });

  it('exits 1 when the port is taken', async () => {
    const first = run(['serve', '--port', '0', '--data', join(dir, 'a')]);
    running.push(first);
    const { port } = await waitForLine(first, 'listening');
    const second = run(['serve', '--port', String(port), '--data', join(dir, 'b')]);
    expect(await second.exit).toBe(1);
    expect(second.stderr()).toMatch(/cannot listen/);
  });
});
