/**
 * Health checks against real servers on 127.0.0.1 (an http server and tcp ports of this test),
 * real `sh` commands, and `service` checks through observeService with the tcp and http probes.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateAgentConfig } from '@envparity/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseChecks, resolveCheckServices } from './checks.js';
import { runCheckOnce, runHealthChecks, startVerifyChecks } from './run-checks.js';

const listen = (server: Server | TcpServer) =>
  new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
const close = (server: Server | TcpServer) => new Promise((resolve) => server.close(resolve));

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createTcpServer();
  const port = await listen(server);
  await close(server);
  return port;
}

describe('health checks', () => {
  let http: Server;
  let base: string;
  let tcp: TcpServer;
  let tcpPort: number;
  let refusedPort: number;
  let dir: string;
  const hits = new Map<string, number>();

  beforeAll(async () => {
    http = createServer((request, response) => {
      const path = request.url ?? '/';
      const count = (hits.get(path) ?? 0) + 1;
      hits.set(path, count);
      if (path === '/slow') return; // never answers
      if (path.startsWith('/flaky')) {
        response.writeHead(count <= 2 ? 503 : 200).end(count <= 2 ? 'starting' : 'ready');
        return;
      }
      if (path === '/down') {
        response.writeHead(503).end('maintenance');
        return;
      }
      if (path === '/moved') {
        response.writeHead(301, { location: '/json' }).end();
        return;
      }
      if (path === '/text') {
        response.writeHead(200).end('all good');
        return;
      }
      response
        .writeHead(200, { 'content-type': 'application/json', 'x-version': '15.4 (Debian 15.4-1)' })
        .end(JSON.stringify({ status: 'ok', build: { version: '1.2.3' }, items: [{ v: 1 }, { v: [2, 3] }] }));
    });
    base = `http://127.0.0.1:${await listen(http)}`;
    tcp = createTcpServer((socket) => socket.end());
    tcpPort = await listen(tcp);
    refusedPort = await closedPort();
    dir = await mkdtemp(join(tmpdir(), 'envparity-run-checks-'));
  });

  afterAll(async () => {
    http.closeAllConnections();
    await close(http);
    await close(tcp);
    await rm(dir, { recursive: true, force: true });
  });

  const once = (raw: Record<string, unknown>) => runCheckOnce(parseChecks([raw])[0]!);

  it('http: status, body and JSON path', async () => {
    expect(await once({ http: `${base}/json` })).toEqual({ ok: true, expected: 'status 200', actual: 'status 200' });
    expect(await once({ http: `${base}/down` })).toEqual({ ok: false, expected: 'status 200', actual: 'status 503' });
    expect(await once({ http: `${base}/down`, status: 503, bodyContains: 'maint' })).toMatchObject({ ok: true });
    expect(await once({ http: `${base}/text`, bodyContains: 'ready' })).toEqual({
      ok: false,
      expected: 'status 200, body contains "ready"',
      actual: 'status 200, body "all good"',
    });
    const json = { http: `${base}/json`, jsonPath: '$.items[1].v', equals: [2, 3] };
    expect(await once(json)).toEqual({
      ok: true,
      expected: 'status 200, $.items[1].v = [2,3]',
      actual: 'status 200, $.items[1].v = [2,3]',
    });
    expect(await once({ ...json, equals: [2] })).toMatchObject({
      ok: false,
      actual: 'status 200, $.items[1].v = [2,3]',
    });
    expect(await once({ http: `${base}/json`, jsonPath: '$.build.version' })).toMatchObject({ ok: true });
    // The first answer counts: a redirect is not followed.
    expect(await once({ http: `${base}/moved` })).toMatchObject({ ok: false, actual: 'status 301' });
    expect(await once({ http: `${base}/moved`, status: 301 })).toMatchObject({ ok: true });
    expect(await once({ http: `${base}/json`, jsonPath: '$.build.commit' })).toMatchObject({
      ok: false,
      expected: 'status 200, $.build.commit present',
      actual: 'status 200, $.build.commit = (missing)',
    });
    expect(await once({ http: `${base}/text`, jsonPath: '$.status', equals: 'ok' })).toMatchObject({
      ok: false,
      actual: 'status 200, body is not JSON',
    });
  });

  it('http: refused and silent servers fail with what happened', async () => {
    expect(await once({ http: `http://127.0.0.1:${refusedPort}/` })).toMatchObject({
      ok: false,
      actual: `connection refused at 127.0.0.1:${refusedPort}`,
    });
    expect(await once({ http: `${base}/slow`, timeout: '300ms' })).toMatchObject({
      ok: false,
      actual: 'no answer within 300ms',
    });
  });

  it('tcp: open or closed, and reachable: false asserts closed', async () => {
    expect(await once({ tcp: `127.0.0.1:${tcpPort}` })).toEqual({ ok: true, expected: 'open', actual: 'open' });
    expect(await once({ tcp: `127.0.0.1:${refusedPort}` })).toEqual({
      ok: false,
      expected: 'open',
      actual: `closed: connection refused at 127.0.0.1:${refusedPort}`,
    });
    expect(await once({ tcp: `127.0.0.1:${refusedPort}`, reachable: false })).toMatchObject({ ok: true });
    expect(await once({ tcp: `127.0.0.1:${tcpPort}`, reachable: false })).toMatchObject({ ok: false });
  });

  it('command: exit code, stdout, and a timeout that kills the whole process group', async () => {
    expect(await once({ command: 'echo ready' })).toEqual({ ok: true, expected: 'exit 0', actual: 'exit 0' });
    expect(await once({ command: 'echo nope >&2; exit 3' })).toEqual({
      ok: false,
      expected: 'exit 0',
      actual: 'exit 3, stderr "nope"',
    });
    expect(await once({ command: 'exit 3', exitCode: 3 })).toMatchObject({ ok: true });
    expect(await once({ command: 'echo starting', stdoutContains: 'ready' })).toEqual({
      ok: false,
      expected: 'exit 0, stdout contains "ready"',
      actual: 'exit 0, stdout "starting"',
    });
    const pidFile = join(dir, 'child.pid');
    const hung = await once({ command: `sleep 60 & echo $! > ${pidFile}; wait`, timeout: '500ms' });
    expect(hung).toEqual({ ok: false, expected: 'exit 0', actual: 'killed after 500ms (timeout)' });
    // The background child died with its group: gone, or a zombie nobody reaped yet.
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    const state = await readFile(`/proc/${pid}/status`, 'utf8').then(
      (status) => /^State:\s+(\S)/m.exec(status)?.[1],
      () => 'gone',
    );
    expect(['gone', 'Z']).toContain(state);
  });

  it('service: observeService reachable, and the version within the range (coerced)', async () => {
    const config = validateAgentConfig({
      watch: {
        services: [
          { name: 'port', type: 'tcp', host: '127.0.0.1', port: tcpPort, banner: false },
          { name: 'gone', type: 'tcp', host: '127.0.0.1', port: refusedPort, timeout: 2 },
          { name: 'web', type: 'http', url: `${base}/json`, versionHeader: 'X-Version' },
        ],
      },
    });
    const checks = parseChecks([
      { service: 'port' },
      { service: 'gone' },
      { name: 'web 15', service: 'web', version: '>=15 <16' },
      { name: 'web 16', service: 'web', version: '^16' },
    ]);
    const services = resolveCheckServices(checks, config.watch.services);
    const results = await runHealthChecks(checks, { services });
    expect(results.map((r) => [r.name, r.ok])).toEqual([
      ['service port', true],
      ['service gone', false],
      ['web 15', true],
      ['web 16', false],
    ]);
    expect(results[1]?.actual).toMatch(/^unreachable: /);
    expect(results[2]).toMatchObject({
      expected: 'reachable, version >=15 <16',
      actual: 'reachable, version 15.4 (Debian 15.4-1)',
    });
  });

  it('retries only the failing checks until they pass, one progress line per attempt', async () => {
    const lines: string[] = [];
    const checks = parseChecks([
      { name: 'flaky', http: `${base}/flaky-a` },
      { name: 'steady', http: `${base}/text` },
    ]);
    hits.delete('/text');
    const results = await runHealthChecks(checks, {
      retryTimeoutMs: 30_000,
      sleepMs: 20,
      progress: (line) => lines.push(line),
    });
    expect(results.map((r) => [r.name, r.ok, r.attempts])).toEqual([
      ['flaky', true, 3],
      ['steady', true, 1],
    ]);
    expect(hits.get('/text')).toBe(1);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^checks: attempt 1: 1 of 2 failing \(flaky: status 503\); retrying in 20ms, /);
    expect(lines[1]).toMatch(/^checks: attempt 2: 1 of 2 failing/);
    expect(lines[2]).toBe('checks: attempt 3: all 2 passing\n');
  });

  it('without a retry timeout a check runs once; with one, a check that never passes fails when it ends', async () => {
    const checks = parseChecks([{ name: 'down', http: `${base}/down` }]);
    const lines: string[] = [];
    expect(await runHealthChecks(checks, { progress: (line) => lines.push(line) })).toMatchObject([
      { ok: false, attempts: 1 },
    ]);
    expect(lines).toEqual([]);
    const [result] = await runHealthChecks(checks, {
      retryTimeoutMs: 1_000,
      sleepMs: 100,
      progress: (line) => lines.push(line),
    });
    expect(result).toMatchObject({ name: 'down', kind: 'http', ok: false, actual: 'status 503' });
    expect(result!.attempts).toBeGreaterThan(1);
    expect(lines).toHaveLength(result!.attempts);
    expect(lines.at(-1)).toMatch(/; retry timeout 1s reached\n$/);
  });

  it('startVerifyChecks refuses bad flags and unknown services before running, and stop() ends retrying', async () => {
    const config = validateAgentConfig({});
    const none = { env: process.env };
    expect(() => startVerifyChecks([], config, { retryTimeout: '60' }, none)).toThrow(
      '--retry-timeout: expected a duration such as 500ms, 2s, 1m, got "60"',
    );
    expect(() => startVerifyChecks([], config, { sleep: 'soon' }, none)).toThrow(/^--sleep: expected a duration/);
    expect(() => startVerifyChecks(parseChecks([{ service: 'db' }]), config, {}, none)).toThrow(
      /checks\[0\]\.service: no service "db"/,
    );
    const running = startVerifyChecks(
      parseChecks([{ http: `${base}/down` }]),
      config,
      { retryTimeout: '10m', sleep: '1m' },
      none,
    );
    running.stop();
    const [result] = await running.results;
    expect(result).toMatchObject({ ok: false });
    expect(await startVerifyChecks([], config, {}, none).results).toEqual([]);
  });
});
