import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiBaseUrl } from './aggregator-client.js';
import { fetchFleetKey, NoFleetKeyError, resolveFleetKey } from './fleet-key.js';

const FLEET_KEY = 'fleet-key-never-printed-0123456789';

describe('apiBaseUrl', () => {
  it('maps ws to http, drops the agent channel path and keeps a proxy prefix', () => {
    expect(apiBaseUrl('ws://127.0.0.1:7300')).toBe('http://127.0.0.1:7300');
    expect(apiBaseUrl('ws://127.0.0.1:7300/api/v1/agent')).toBe('http://127.0.0.1:7300');
    expect(apiBaseUrl('wss://agg.internal/api/v1/agent/')).toBe('https://agg.internal');
    expect(apiBaseUrl('https://proxy.internal/envparity/')).toBe('https://proxy.internal/envparity');
    expect(apiBaseUrl('http://127.0.0.1:7300/')).toBe('http://127.0.0.1:7300');
    expect(() => apiBaseUrl('ftp://x')).toThrow(/expected an http\(s\):\/\/ or ws\(s\):\/\/ URL/);
    expect(() => apiBaseUrl('not a url')).toThrow(/not a URL/);
  });
});

describe('fleet key for verify and baseline', () => {
  let server: Server;
  let url: string;
  const requests: { path: string; auth: string | undefined; method: string }[] = [];
  let dir: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push({ path: req.url ?? '', auth: req.headers.authorization, method: req.method ?? '' });
      const token = req.headers.authorization?.replace(/^Bearer /, '');
      res.setHeader('content-type', 'application/json');
      if (req.url === '/gone/api/v1/fleet-key') {
        res.statusCode = 404;
        res.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'not found' } }));
      } else if (token === 'verify-token') {
        res.end(JSON.stringify({ fleetKey: FLEET_KEY }));
      } else if (token === 'read-token') {
        res.statusCode = 403;
        res.end(
          JSON.stringify({ error: { code: 'FORBIDDEN', message: 'this route needs a token with the verify scope' } }),
        );
      } else if (token === 'weird-token') {
        res.end(JSON.stringify({ key: FLEET_KEY }));
      } else {
        res.statusCode = 401;
        res.end(JSON.stringify({ error: { code: 'UNAUTHORIZED', message: 'unknown token' } }));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = await mkdtemp(join(tmpdir(), 'envparity-fleet-key-'));
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('prefers the fleet key of an enrolled state dir and asks the aggregator nothing', async () => {
    const stateDir = join(dir, 'enrolled');
    await mkdir(stateDir);
    await writeFile(join(stateDir, 'fleet.key'), 'state-dir-key\n', { mode: 0o600 });
    const before = requests.length;
    await expect(resolveFleetKey({ stateDir, aggregator: url, token: 'verify-token' })).resolves.toEqual({
      key: 'state-dir-key',
      source: 'state-dir',
    });
    expect(requests.length).toBe(before);
  });

  it('fetches GET /api/v1/fleet-key with the bearer token otherwise, from a ws:// URL too', async () => {
    const stateDir = join(dir, 'fresh');
    await expect(
      resolveFleetKey({ stateDir, aggregator: url.replace('http:', 'ws:'), token: 'verify-token' }),
    ).resolves.toEqual({ key: FLEET_KEY, source: 'aggregator' });
    expect(requests.at(-1)).toEqual({ path: '/api/v1/fleet-key', auth: 'Bearer verify-token', method: 'GET' });
  });

  it('without a state-dir key and a token (or an aggregator) there is no key', async () => {
    const stateDir = join(dir, 'none');
    await expect(resolveFleetKey({ stateDir, aggregator: url })).resolves.toBeUndefined();
    await expect(resolveFleetKey({ stateDir, token: 'verify-token' })).resolves.toBeUndefined();
    const message = new NoFleetKeyError(stateDir).message;
    expect(message).toContain('--state-dir DIR');
    expect(message).toContain('--token');
    expect(message).toContain('ENVPARITY_TOKEN');
    expect(message).toContain('scope verify');
  });

  it('401, 403 and 404 say what is wrong and never echo a key', async () => {
    const unknown = await fetchFleetKey(url, 'nope').catch((error: Error) => error);
    expect((unknown as Error).message).toMatch(/401 .*unknown or revoked/);
    const forbidden = await fetchFleetKey(url, 'read-token').catch((error: Error) => error);
    expect((forbidden as Error).message).toMatch(/403 .*scope verify/);
    const missing = await fetchFleetKey(`${url}/gone`, 'verify-token').catch((error: Error) => error);
    expect((missing as Error).message).toMatch(/404 .*no fleet-key route/);
    const bad = await fetchFleetKey(url, 'weird-token').catch((error: Error) => error);
    expect((bad as Error).message).toMatch(/unexpected answer/);
    for (const error of [unknown, forbidden, missing, bad]) {
      expect((error as Error).name).toBe('VerifyError');
      expect((error as Error).message).not.toContain(FLEET_KEY);
    }
  });

  it('an unreachable aggregator is a clear error', async () => {
    const error = await fetchFleetKey('http://127.0.0.1:1', 'verify-token').catch((e: Error) => e);
    expect((error as Error).message).toMatch(/aggregator unreachable at http:\/\/127\.0\.0\.1:1/);
  });
});
