/**
 * The http probe against real node:http and node:https servers on 127.0.0.1: status (redirects not
 * followed), the version from a header or a JSON path, the certificate of an https server (a
 * self-signed one made here with openssl) compared with what X509Certificate reads from the file,
 * and refused, silent, non-HTTP and oversized answers ending in clear errors.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type HttpServiceConfig, serviceSchema } from '@envparity/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../../test/helpers/mariadb-server.js';
import { waitFor } from '../../../../test/helpers/wait-for.js';
import { MAX_BODY_BYTES } from './http-get.js';
import { evaluateJsonPath, parseJsonPath } from './http-json-path.js';
import { observeService } from './observe.js';

function httpSpec(fields: Partial<HttpServiceConfig> & { url: string }): HttpServiceConfig {
  return serviceSchema.parse({ name: 'api', type: 'http', ...fields }) as HttpServiceConfig;
}

const routes: RequestListener = (request, response) => {
  switch (request.url) {
    case '/header':
      response.writeHead(200, { 'X-App-Version': '1.2.3' }).end('ok');
      return;
    case '/json':
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ build: { version: '2.0.1', number: 417 }, items: [{ v: 'a' }, { v: 'b' }], deps: {} }));
      return;
    case '/redirect':
      response.writeHead(301, { location: '/json' }).end();
      return;
    case '/broken':
      response.writeHead(503, { 'X-App-Version': '1.2.4' }).end('<html>down</html>');
      return;
    case '/big':
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ version: '9', pad: 'x'.repeat(MAX_BODY_BYTES) }));
      return;
    default:
      response.writeHead(404).end();
  }
};

async function listen(server: Server | ReturnType<typeof createTcpServer>): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

describe('JSON path', () => {
  it('parses $, names and indexes', () => {
    expect(parseJsonPath('$')).toEqual([]);
    expect(parseJsonPath('$.build.version')).toEqual(['build', 'version']);
    expect(parseJsonPath('$.items[0].v')).toEqual(['items', 0, 'v']);
    expect(parseJsonPath('$.a-b.$c[12]')).toEqual(['a-b', '$c', 12]);
    expect(() => parseJsonPath('$.a..b')).toThrow(/unexpected/);
    expect(() => parseJsonPath('version')).toThrow(/starts with \$/);
  });

  it('finds the value, or says nothing is there', () => {
    const document = { a: { b: [{ c: 'x' }, 5] }, n: null };
    expect(evaluateJsonPath(document, '$.a.b[0].c')).toEqual({ found: true, value: 'x' });
    expect(evaluateJsonPath(document, '$.a.b[1]')).toEqual({ found: true, value: 5 });
    expect(evaluateJsonPath(document, '$.n')).toEqual({ found: true, value: null });
    expect(evaluateJsonPath(document, '$.a.b[2]')).toEqual({ found: false });
    expect(evaluateJsonPath(document, '$.a.c')).toEqual({ found: false });
    expect(evaluateJsonPath(document, '$.a.b.c')).toEqual({ found: false });
    expect(evaluateJsonPath(document, '$.a.toString')).toEqual({ found: false });
    expect(evaluateJsonPath([1], '$.length')).toEqual({ found: false });
  });
});

describe('http probe', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createHttpServer(routes);
    base = `http://127.0.0.1:${await listen(server)}`;
  });
  afterAll(() => {
    server.close();
  });

  it('reads the status and the version header', async () => {
    const observation = await observeService(httpSpec({ url: `${base}/header`, versionHeader: 'x-app-version' }));
    expect(observation).toMatchObject({ reachable: true, version: '1.2.3', facts: { status: 200 } });
    expect(observation.error).toBeUndefined();
  });

  it('reads the version at a JSON path, numbers as text', async () => {
    const at = (versionJsonPath: string) => observeService(httpSpec({ url: `${base}/json`, versionJsonPath }));
    expect(await at('$.build.version')).toMatchObject({ reachable: true, version: '2.0.1', facts: { status: 200 } });
    expect((await at('$.items[1].v')).version).toBe('b');
    expect((await at('$.build.number')).version).toBe('417');
    expect(await at('$.build.tag')).toMatchObject({
      reachable: true,
      error: '$.build.tag not found in the response body',
    });
    expect((await at('$.deps')).error).toBe('$.deps is an object, not a version');
  });

  it('reports a redirect as its status, without following it', async () => {
    const observation = await observeService(httpSpec({ url: `${base}/redirect`, versionJsonPath: '$.build.version' }));
    expect(observation).toMatchObject({ reachable: true, facts: { status: 301 } });
    expect(observation.version).toBeUndefined();
    expect(observation.error).toBe('the response body is not JSON: $.build.version not read');
  });

  it('counts any answer as reachable, a 503 too, and says what is missing', async () => {
    expect(await observeService(httpSpec({ url: `${base}/broken`, versionHeader: 'X-App-Version' }))).toMatchObject({
      reachable: true,
      version: '1.2.4',
      facts: { status: 503 },
    });
    expect(await observeService(httpSpec({ url: `${base}/header`, versionHeader: 'X-Build' }))).toMatchObject({
      reachable: true,
      facts: { status: 200 },
      error: 'no X-Build header in the response',
    });
  });

  it('reads at most 1 MB of body', async () => {
    const observation = await observeService(httpSpec({ url: `${base}/big`, versionJsonPath: '$.version' }));
    expect(observation).toMatchObject({
      reachable: true,
      facts: { status: 200 },
      error: `the response body is over ${MAX_BODY_BYTES} bytes: $.version not read`,
    });
  });

  it('says the connection was refused', async () => {
    const port = await freePort();
    expect(await observeService(httpSpec({ url: `http://127.0.0.1:${port}/` }))).toMatchObject({
      reachable: false,
      facts: {},
      error: `connection refused at 127.0.0.1:${port}`,
    });
  });

  it('gives up on a server that accepts and never answers, and closes its socket', async () => {
    const sockets = new Set<Socket>();
    const silent = createTcpServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
      // Reads (and drops) the request, or the end of the stream would wait behind it.
      socket.resume();
    });
    const port = await listen(silent);
    try {
      const observation = await observeService(httpSpec({ url: `http://127.0.0.1:${port}/`, timeout: 0.3 }));
      expect(observation).toMatchObject({ reachable: false, error: 'no answer within 0.3 s' });
      await waitFor(() => sockets.size === 0, { message: 'the probe to close its socket' });
    } finally {
      silent.close();
    }
  });

  it('tells a peer that does not speak HTTP', async () => {
    const ssh = createTcpServer((socket) => {
      socket.on('error', () => {});
      socket.end('SSH-2.0-OpenSSH_9.2p1\r\n');
    });
    const port = await listen(ssh);
    try {
      const observation = await observeService(httpSpec({ url: `http://127.0.0.1:${port}/` }));
      expect(observation.reachable).toBe(false);
      expect(observation.error).toMatch(new RegExp(`^127\\.0\\.0\\.1:${port} did not answer in HTTP \\(HPE_`));
    } finally {
      ssh.close();
    }
  });
});

describe('http probe on https', () => {
  let dir: string;
  let server: Server;
  let port: number;
  let certificate: X509Certificate;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'envparity-http-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        'key.pem',
        '-out',
        'cert.pem',
        '-days',
        '2',
        '-subj',
        '/O=envparity/CN=api.test',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:api.test',
      ],
      { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const cert = readFileSync(join(dir, 'cert.pem'));
    certificate = new X509Certificate(cert);
    server = createHttpsServer({ cert, key: readFileSync(join(dir, 'key.pem')) }, routes);
    port = await listen(server);
  });
  afterAll(() => {
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the status and version from a self-signed server and reports its certificate under tls.*', async () => {
    const observation = await observeService(
      httpSpec({ url: `https://127.0.0.1:${port}/json`, versionJsonPath: '$.build.version' }),
    );
    expect(observation.error).toBeUndefined();
    expect(observation).toMatchObject({ reachable: true, version: '2.0.1' });
    expect(observation.facts).toEqual({
      status: 200,
      'tls.subject': 'O=envparity, CN=api.test',
      'tls.issuer': 'O=envparity, CN=api.test',
      'tls.sans': ['DNS:api.test', 'IP:127.0.0.1'],
      'tls.notBefore': new Date(certificate.validFrom).toISOString(),
      'tls.notAfter': new Date(certificate.validTo).toISOString(),
      'tls.sha256': certificate.fingerprint256,
      'tls.protocol': 'TLSv1.3',
      'tls.authorized': false,
      'tls.authorizationError': 'DEPTH_ZERO_SELF_SIGNED_CERT',
    });
  });

  it('says so when an https URL points at a plain http server', async () => {
    const plain = createHttpServer(routes);
    const plainPort = await listen(plain);
    try {
      const observation = await observeService(httpSpec({ url: `https://127.0.0.1:${plainPort}/` }));
      expect(observation.reachable).toBe(false);
      expect(observation.error).toMatch(new RegExp(`^TLS handshake with 127\\.0\\.0\\.1:${plainPort} failed \\(`));
      expect(observation.facts).toEqual({});
    } finally {
      plain.close();
    }
  });
});
