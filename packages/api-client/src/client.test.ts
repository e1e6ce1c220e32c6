import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, createTestApi, type TestApi } from '../../../aggregator/testing/test-api.js';
import { createClient, type EnvparityClient } from './client.js';
import { ApiError, errorForStatus } from './errors.js';

let api: TestApi;
/** The client over the in-process aggregator: fetch goes to `app.request()`. */
function clientFor(token: string | undefined): EnvparityClient {
  return createClient({
    url: 'http://aggregator.test',
    token,
    fetch: ((input: string | URL | Request, init?: RequestInit) =>
      api.aggregator.app.request(String(input), init)) as typeof fetch,
  });
}

beforeAll(() => {
  api = createTestApi();
});
afterAll(async () => {
  await api.aggregator.stop();
});

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('EnvparityClient against the in-process aggregator', () => {
  it('reads health and an empty fleet', async () => {
    const client = clientFor(ADMIN_TOKEN);
    expect(await client.health()).toEqual({ status: 'ok' });
    expect(await client.listEnvironments()).toEqual([]);
    expect(await client.listHosts()).toEqual([]);
  });

  it('creates, lists and revokes a token; the revoked token gets UNAUTHORIZED with the server message', async () => {
    const admin = clientFor(ADMIN_TOKEN);
    const created = await admin.createToken({ name: 'reader', scope: 'read' });
    expect(created.token).toMatch(/^ept_/);
    expect((await admin.listTokens()).map((token) => token.name)).toContain('reader');
    const reader = clientFor(created.token);
    expect(await reader.listEnvironments()).toEqual([]);
    const forbidden = await failure(reader.listTokens());
    expect(forbidden.code).toBe('FORBIDDEN');
    expect(forbidden.status).toBe(403);
    await admin.revokeToken(created.id);
    const unauthorized = await failure(reader.listEnvironments());
    expect(unauthorized.code).toBe('UNAUTHORIZED');
    expect(unauthorized.serverCode).toBe('UNAUTHORIZED');
    expect(unauthorized.message).toBe('unknown or revoked token');
  });

  it('maps 404 and 400 answers to NOT_FOUND and BAD_REQUEST with the server message', async () => {
    const client = clientFor(ADMIN_TOKEN);
    const notFound = await failure(client.compare('nowhere', 'elsewhere'));
    expect(notFound.code).toBe('NOT_FOUND');
    expect(notFound.message).toContain('"nowhere"');
    const bad = await failure(client.createException({ path: 'config.**', environments: ['prod'], reason: '' }));
    expect(bad.code).toBe('BAD_REQUEST');
    expect(bad.status).toBe(400);
    expect(bad.message).toMatch(/reason|environment/);
  });

  it('without a token only /healthz answers', async () => {
    const client = clientFor(undefined);
    expect((await client.health()).status).toBe('ok');
    expect((await failure(client.listHosts())).code).toBe('UNAUTHORIZED');
  });
});

describe('transport failures', () => {
  it('a closed port on 127.0.0.1 is UNREACHABLE naming the URL', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const error = await failure(createClient({ url: `http://127.0.0.1:${port}`, token: 't' }).listHosts());
    expect(error.code).toBe('UNREACHABLE');
    expect(error.message).toContain(`http://127.0.0.1:${port}`);
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('a non-JSON 502 (a proxy page) is SERVER with the status line', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' }).end('<html>bad gateway</html>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const error = await failure(createClient({ url: `http://127.0.0.1:${port}` }).health());
      expect(error.code).toBe('SERVER');
      expect(error.message).toMatch(/^HTTP 502/);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('a URL that is not http(s) is refused up front', () => {
    expect(() => createClient({ url: 'ftp://x' })).toThrow(/not an http\(s\) URL/);
    expect(() => createClient({ url: 'nope' })).toThrow(/not a URL/);
  });
});

describe('errorForStatus', () => {
  it.each([
    [401, 'UNAUTHORIZED'],
    [403, 'FORBIDDEN'],
    [404, 'NOT_FOUND'],
    [409, 'CONFLICT'],
    [400, 'BAD_REQUEST'],
    [413, 'BAD_REQUEST'],
    [500, 'SERVER'],
    [503, 'SERVER'],
  ])('%i -> %s', (status, code) => {
    const error = errorForStatus(status, 'm');
    expect(error.code).toBe(code);
    expect(error.status).toBe(status);
    expect(error).toBeInstanceOf(ApiError);
  });
});
