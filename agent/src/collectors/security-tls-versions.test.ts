/**
 * TLS versions accepted, against real `tls.createServer` servers on 127.0.0.1 configured with
 * different version ranges (a certificate made with openssl here), each answer compared with what
 * `openssl s_client` pinned to the same version gets from the same server.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type SecureVersion, type TlsOptions } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execCommand } from '../exec.js';
import { collectTlsVersionFacts, TLS_VERSIONS } from './security-tls-versions.js';

const dir = mkdtempSync(join(tmpdir(), 'envparity-tls-versions-'));
const servers: Server[] = [];
const sockets = new Set<Socket>();
let key: Buffer;
let cert: Buffer;

function opensslWorks(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

beforeAll(() => {
  if (!opensslWorks()) return;
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'].concat([
      '-keyout',
      'key.pem',
      '-out',
      'cert.pem',
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
    ]),
    { cwd: dir, stdio: 'ignore' },
  );
  key = readFileSync(join(dir, 'key.pem'));
  cert = readFileSync(join(dir, 'cert.pem'));
});
afterAll(async () => {
  // close() waits for open connections: the silent server's are never ended by it.
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  rmSync(dir, { recursive: true, force: true });
});

function listen(server: Server): Promise<string> {
  servers.push(server);
  server.on('connection', (socket) => sockets.add(socket));
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(`127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
    });
  });
}

/** A TLS server accepting `minVersion`..`maxVersion` (TLS 1.0/1.1 need security level 0 on the server too). */
function tlsServer(minVersion: SecureVersion, maxVersion: SecureVersion): Promise<string> {
  const options: TlsOptions = { key, cert, minVersion, maxVersion };
  if (minVersion === 'TLSv1' || minVersion === 'TLSv1.1') options.ciphers = 'DEFAULT@SECLEVEL=0';
  return listen(createTlsServer(options, (socket) => socket.end()));
}

const S_CLIENT_FLAGS: Record<string, string> = {
  TLSv1: '-tls1',
  'TLSv1.1': '-tls1_1',
  'TLSv1.2': '-tls1_2',
  'TLSv1.3': '-tls1_3',
};

/** The versions `openssl s_client` completes a handshake with (exit 0), pinned to each version. */
async function opensslAccepts(endpoint: string): Promise<string[]> {
  const accepted: string[] = [];
  for (const version of TLS_VERSIONS) {
    const result = await execCommand(
      'openssl',
      ['s_client', '-connect', endpoint, S_CLIENT_FLAGS[version] as string, '-cipher', 'DEFAULT@SECLEVEL=0'],
      { timeoutMs: 10_000 },
    );
    if (result.code === 0) accepted.push(version);
  }
  return accepted;
}

describe.skipIf(!opensslWorks())('security.tls accepted versions', () => {
  it('reports each server range, as openssl s_client sees it', async () => {
    const ranges: [SecureVersion, SecureVersion, string[]][] = [
      ['TLSv1.2', 'TLSv1.3', ['TLSv1.2', 'TLSv1.3']],
      ['TLSv1.3', 'TLSv1.3', ['TLSv1.3']],
      ['TLSv1.2', 'TLSv1.2', ['TLSv1.2']],
      ['TLSv1', 'TLSv1.1', ['TLSv1', 'TLSv1.1']],
      ['TLSv1', 'TLSv1.3', ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3']],
    ];
    for (const [min, max, expected] of ranges) {
      const endpoint = await tlsServer(min, max);
      const errors: string[] = [];
      const facts = await collectTlsVersionFacts([endpoint], {}, (message) => errors.push(message));
      expect(facts, `${min}..${max}`).toEqual({ [`security.tls["${endpoint}"].accepts`]: expected });
      expect(errors).toEqual([]);
      expect(await opensslAccepts(endpoint), `openssl on ${min}..${max}`).toEqual(expected);
    }
  });

  it('a closed port is an error, not "accepts nothing"; a silent server accepts nothing and says why', async () => {
    const closed = await listen(createTcpServer());
    await new Promise((resolve) => servers.pop()?.close(resolve));
    const silent = await listen(createTcpServer(() => {}));
    const errors: string[] = [];
    const facts = await collectTlsVersionFacts([closed, silent, 'not-an-endpoint'], { timeoutMs: 300 }, (message) =>
      errors.push(message),
    );
    expect(facts).toEqual({
      [`security.tls["${closed}"].error`]: 'ECONNREFUSED',
      [`security.tls["${silent}"].accepts`]: [],
      'security.tls.not-an-endpoint.error': 'EINVAL',
    });
    expect(errors).toHaveLength(4);
    expect(errors[0]).toContain('no answer (ETIMEDOUT)');
  });
});
