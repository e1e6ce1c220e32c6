import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { ConfigError } from '@envparity/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createThrowawayCa, type ThrowawayCa } from '../../test/helpers/throwaway-ca.js';
import { createAggregator } from './aggregator.js';
import { parseAggregatorConfig, resolveServeConfig } from './config.js';
import { HSTS_HEADER_VALUE, loadTlsCredentials } from './tls.js';

let ca: ThrowawayCa;
beforeAll(() => {
  ca = createThrowawayCa();
});
afterAll(() => ca.remove());

async function configError(run: () => Promise<unknown>): Promise<ConfigError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

function get(url: string, caFile: Buffer): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca: caFile, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('loadTlsCredentials', () => {
  it('loads a matching certificate and key, with the fingerprint agents pin', async () => {
    const tls = await loadTlsCredentials({ cert: ca.serverCert, key: ca.serverKey });
    expect(tls.fingerprint256).toBe(ca.serverFingerprint);
    expect(tls.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(tls.expired).toBe(false);
    expect(tls.subject).toContain('127.0.0.1');
  });

  it('names the key and the file when a file cannot be read', async () => {
    const missing = join(ca.dir, 'nope.pem');
    const error = await configError(() => loadTlsCredentials({ cert: missing, key: ca.serverKey }));
    expect(error.key).toBe('tls.cert');
    expect(error.message).toBe(`tls.cert: cannot read ${missing}: ENOENT`);
    const keyError = await configError(() => loadTlsCredentials({ cert: ca.serverCert, key: ca.dir }));
    expect(keyError.key).toBe('tls.key');
    expect(keyError.message).toMatch(/^tls\.key: cannot read .*: EISDIR$/);
  });

  it('refuses a key that does not belong to the certificate', async () => {
    const error = await configError(() => loadTlsCredentials({ cert: ca.serverCert, key: ca.otherKey }));
    expect(error.key).toBe('tls.key');
    expect(error.message).toMatch(/does not belong to the certificate .*key mismatch/);
  });

  it('refuses files that are not a certificate or a key (e.g. swapped)', async () => {
    const swapped = await configError(() => loadTlsCredentials({ cert: ca.serverKey, key: ca.serverCert }));
    expect(swapped.key).toBe('tls.cert');
    expect(swapped.message).toMatch(/is not a PEM certificate/);
    const garbage = join(ca.dir, 'garbage.key');
    writeFileSync(garbage, 'not a key\n');
    const badKey = await configError(() => loadTlsCredentials({ cert: ca.serverCert, key: garbage }));
    expect(badKey.key).toBe('tls.key');
    expect(badKey.message).toMatch(/is not an unencrypted PEM private key/);
  });

  it('flags an expired certificate', async () => {
    const tls = await loadTlsCredentials(
      { cert: ca.serverCert, key: ca.serverKey },
      () => Date.now() + 10 * 86_400_000,
    );
    expect(tls.expired).toBe(true);
  });
});

describe('config tls', () => {
  it('takes tls.cert and tls.key, and rejects unknown keys under tls', () => {
    const config = resolveServeConfig(parseAggregatorConfig('tls: { cert: a.pem, key: a.key }'));
    expect(config.tls).toEqual({ cert: 'a.pem', key: 'a.key' });
    expect(resolveServeConfig({}).tls).toBeUndefined();
    expect(() => parseAggregatorConfig('tls: { cert: a.pem }')).toThrow(/tls\.key/);
    expect(() => parseAggregatorConfig('tls: { cert: a.pem, key: a.key, ca: x }')).toThrow(/tls\.ca: unknown key/);
  });
});

describe('an aggregator serving TLS', () => {
  it('answers HTTPS with HSTS and takes the agent channel over WSS on the same port', async () => {
    const tls = await loadTlsCredentials({ cert: ca.serverCert, key: ca.serverKey });
    const aggregator = createAggregator({ port: 0, tls: { cert: tls.cert, key: tls.key } });
    try {
      const { url, port } = await aggregator.start();
      expect(url).toBe(`https://127.0.0.1:${port}`);
      const caPem = readFileSync(ca.caCert);
      const health = await get(`${url}/healthz`, caPem);
      expect(health.status).toBe(200);
      expect(JSON.parse(health.body)).toEqual({ status: 'ok' });
      expect(health.headers['strict-transport-security']).toBe(HSTS_HEADER_VALUE);
      const unauthorized = await get(`${url}/api/v1/hosts`, caPem);
      expect(unauthorized.status).toBe(401);
      expect(unauthorized.headers['strict-transport-security']).toBe(HSTS_HEADER_VALUE);

      // The upgrade reaches the gateway over TLS: it answers (here: closes an unauthenticated socket).
      const socket = new WebSocket(`wss://127.0.0.1:${port}/api/v1/agent`, { ca: caPem });
      const opened = await new Promise<boolean>((resolve) => {
        socket.once('open', () => resolve(true));
        socket.once('error', () => resolve(false));
      });
      expect(opened).toBe(true);
      socket.terminate();

      // A client that does not trust the CA is refused by its own TLS check.
      const refused = await get(`${url}/healthz`, Buffer.from('')).then(
        () => 'accepted',
        (error: NodeJS.ErrnoException) => error.code,
      );
      expect(refused).not.toBe('accepted');
    } finally {
      await aggregator.stop();
    }
  });

  it('sends no HSTS header without TLS', async () => {
    const aggregator = createAggregator();
    try {
      const response = await aggregator.app.request('/healthz');
      expect(response.status).toBe(200);
      expect(response.headers.get('strict-transport-security')).toBeNull();
    } finally {
      await aggregator.stop();
    }
  });
});
