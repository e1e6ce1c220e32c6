import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { ConfigError } from '@envparity/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { z } from 'zod';
import { createThrowawayCa, type ThrowawayCa } from '../../../test/helpers/throwaway-ca.js';
import { applyRunFlags } from '../run-command.js';
import { getJson } from '../verify/aggregator-client.js';
import { Connection } from './connection.js';
import {
  assertSecureTransport,
  type ClientTlsOptions,
  describeTlsFailure,
  FingerprintMismatchError,
  InsecureTransportError,
  isLoopbackHost,
  loadClientTlsOptions,
  normalizeFingerprint,
} from './tls-options.js';

describe('isLoopbackHost', () => {
  it('takes 127.0.0.0/8, ::1 and localhost only', () => {
    for (const host of [
      '127.0.0.1',
      '127.9.8.7',
      '[::1]',
      '::1',
      'localhost',
      'LOCALHOST',
      'localhost.',
      '[::ffff:7f00:1]',
    ])
      expect(isLoopbackHost(host), host).toBe(true);
    for (const host of [
      '192.0.2.1',
      '10.0.0.1',
      '0.0.0.0',
      '[::]',
      '[2001:db8::1]',
      'example.com',
      'localhost.example.com',
      '128.0.0.1',
    ])
      expect(isLoopbackHost(host), host).toBe(false);
  });
});

describe('assertSecureTransport', () => {
  it('refuses plain ws:// and http:// off this host unless allowed, naming the way out', () => {
    expect(() => assertSecureTransport('ws://192.0.2.1:7300/api/v1/agent', false)).toThrow(InsecureTransportError);
    expect(() => assertSecureTransport('ws://192.0.2.1:7300/api/v1/agent', false)).toThrow(
      /refusing plain ws:\/\/ to 192\.0\.2\.1:7300, which is not a loopback address.*wss:\/\/.*--allow-insecure/,
    );
    expect(() => assertSecureTransport('http://db.internal:7300', false)).toThrow(/plain http:\/\/.*https:\/\//);
    expect(() => assertSecureTransport('ws://192.0.2.1:7300/api/v1/agent', true)).not.toThrow();
    expect(() => assertSecureTransport('ws://127.0.0.1:7300/api/v1/agent', false)).not.toThrow();
    expect(() => assertSecureTransport('http://localhost:7300', false)).not.toThrow();
    expect(() => assertSecureTransport('ws://[::1]:7300/api/v1/agent', false)).not.toThrow();
    expect(() => assertSecureTransport('wss://192.0.2.1:7300/api/v1/agent', false)).not.toThrow();
    expect(() => assertSecureTransport('https://192.0.2.1:7300', false)).not.toThrow();
  });
});

describe('run flags', () => {
  it('--ca, --server-fingerprint and --allow-insecure go over the config file', async () => {
    const { validateAgentConfig } = await import('@envparity/shared');
    const file = validateAgentConfig({ tls: { ca: '/etc/ca.pem', serverFingerprint: 'ab'.repeat(32) } });
    expect(file.allowInsecure).toBe(false);
    const merged = applyRunFlags(file, { ca: '/tmp/other.pem', allowInsecure: true });
    expect(merged.tls).toEqual({ ca: '/tmp/other.pem', serverFingerprint: 'ab'.repeat(32) });
    expect(merged.allowInsecure).toBe(true);
    expect(() => applyRunFlags(file, { serverFingerprint: 'nope' })).toThrow(
      /tls\.serverFingerprint: expected a SHA-256/,
    );
    expect(() => validateAgentConfig({ tls: { cert: 'x' } })).toThrow(/tls\.cert: unknown key/);
  });
});

describe('normalizeFingerprint', () => {
  const colons = 'AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89';
  it('accepts hex with or without colons, in any case', () => {
    expect(normalizeFingerprint(colons)).toBe(colons);
    expect(normalizeFingerprint(colons.toLowerCase())).toBe(colons);
    expect(normalizeFingerprint(colons.replace(/:/g, ''))).toBe(colons);
    expect(normalizeFingerprint(` ${colons.replace(/:/g, '').toLowerCase()}\n`)).toBe(colons);
  });
  it('refuses anything else, naming the key', () => {
    for (const bad of ['', 'abc', colons.slice(3), `${colons}:00`, colons.replace('AB', 'ZZ'), 'AB:CDEF'.repeat(10)]) {
      const error = (() => {
        try {
          normalizeFingerprint(bad);
        } catch (e) {
          return e;
        }
      })();
      expect(error, bad).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).key).toBe('tls.serverFingerprint');
    }
  });
});

describe('with a throwaway CA', () => {
  let ca: ThrowawayCa;
  let server: Server;
  let port: number;
  let wss: WebSocketServer;

  beforeAll(async () => {
    ca = createThrowawayCa();
    server = createServer({ cert: readFileSync(ca.serverCert), key: readFileSync(ca.serverKey) }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
    wss = new WebSocketServer({ server });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    wss.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    ca.remove();
  });

  /** Opens a Connection with these options; resolves 'open' or the error it failed with. */
  function connect(tls: ClientTlsOptions, host = '127.0.0.1'): Promise<'open' | Error> {
    return new Promise((resolve) => {
      let failure: Error | undefined;
      const connection = new Connection(
        { url: `wss://${host}:${port}/api/v1/agent`, tls },
        {
          open: () => {
            resolve('open');
            connection.close();
          },
          message: () => undefined,
          error: (error) => {
            failure ??= error;
          },
          close: () => resolve(failure ?? new Error('closed without an error')),
        },
      );
    });
  }

  it('refuses an unreadable or non-PEM CA file, and a pin or CA with a plain URL', async () => {
    const missing = join(ca.dir, 'missing.pem');
    await expect(loadClientTlsOptions('wss://127.0.0.1:1/', { ca: missing })).rejects.toThrow(
      `tls.ca: cannot read ${missing}: ENOENT`,
    );
    await expect(loadClientTlsOptions('wss://127.0.0.1:1/', { ca: ca.serverKey })).rejects.toThrow(
      /tls\.ca: .* is not a PEM certificate/,
    );
    await expect(
      loadClientTlsOptions('ws://127.0.0.1:1/', { serverFingerprint: ca.serverFingerprint }),
    ).rejects.toThrow(/--server-fingerprint need a wss:\/\/ or https:\/\/ aggregator URL/);
    await expect(loadClientTlsOptions('ws://127.0.0.1:1/', {})).resolves.toEqual({});
  });

  it('--ca: a certificate signed by the pinned CA is accepted, one it did not sign is refused', async () => {
    expect(await connect(await loadClientTlsOptions('wss://x/', { ca: ca.caCert }))).toBe('open');
    expect(await connect(await loadClientTlsOptions('wss://x/', { ca: ca.caCert }), 'localhost')).toBe('open');
    const other = await connect(await loadClientTlsOptions('wss://x/', { ca: ca.otherCaCert }));
    expect(other).toBeInstanceOf(Error);
    expect(describeTlsFailure(other)).toMatch(/not signed by a trusted CA .*--ca FILE/);
    // Without --ca only the system CAs count: the throwaway CA is not one of them.
    const system = await connect({});
    expect(describeTlsFailure(system)).toMatch(/not signed by a trusted CA/);
  });

  it('--server-fingerprint: the pinned certificate is accepted (any spelling), another fingerprint is refused', async () => {
    const lower = ca.serverFingerprint.replace(/:/g, '').toLowerCase();
    const pinned = await loadClientTlsOptions('wss://x/', { ca: ca.caCert, serverFingerprint: lower });
    expect(await connect(pinned)).toBe('open');
    const wrongPin = `00${ca.serverFingerprint.slice(2)}`;
    const wrong = await connect(await loadClientTlsOptions('wss://x/', { ca: ca.caCert, serverFingerprint: wrongPin }));
    expect(wrong).toBeInstanceOf(FingerprintMismatchError);
    expect(describeTlsFailure(wrong)).toBe(
      `the aggregator's certificate fingerprint ${ca.serverFingerprint} does not match --server-fingerprint ${wrongPin}`,
    );
    // The chain is still verified: a pin alone does not make an untrusted CA trusted.
    const pinOnly = await connect(await loadClientTlsOptions('wss://x/', { serverFingerprint: ca.serverFingerprint }));
    expect(describeTlsFailure(pinOnly)).toMatch(/not signed by a trusted CA/);
  });

  it('a pin mismatch ends the handshake before anything is sent (no upgrade request, no header)', async () => {
    const received: Buffer[] = [];
    const raw = createTlsServer({ cert: readFileSync(ca.serverCert), key: readFileSync(ca.serverKey) }, (socket) => {
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    const rawPort = (raw.address() as AddressInfo).port;
    try {
      const tls = await loadClientTlsOptions('wss://x/', { ca: ca.caCert, serverFingerprint: 'ab'.repeat(32) });
      const outcome = await new Promise<Error | 'open'>((resolve) => {
        let failure: Error | undefined;
        new Connection(
          { url: `wss://127.0.0.1:${rawPort}/api/v1/agent`, tls },
          {
            open: () => resolve('open'),
            message: () => undefined,
            error: (error) => {
              failure ??= error;
            },
            close: () => resolve(failure ?? new Error('closed')),
          },
        );
      });
      expect(outcome).toBeInstanceOf(FingerprintMismatchError);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(Buffer.concat(received).length).toBe(0);
    } finally {
      await new Promise((resolve) => raw.close(resolve));
    }
  });

  it('verify HTTP calls honour --ca and --server-fingerprint and refuse plain http:// off this host', async () => {
    const schema = z.object({ ok: z.boolean() });
    const base = `https://127.0.0.1:${port}`;
    const tls = await loadClientTlsOptions(base, { ca: ca.caCert, serverFingerprint: ca.serverFingerprint });
    await expect(getJson(base, '/x', 't', schema, { transport: { tls } })).resolves.toEqual({ ok: true });
    const wrong = await loadClientTlsOptions(base, { ca: ca.caCert, serverFingerprint: '11'.repeat(32) });
    await expect(getJson(base, '/x', 't', schema, { transport: { tls: wrong } })).rejects.toThrow(
      /TLS check of the aggregator at https:\/\/127\.0\.0\.1:\d+ failed: .* does not match --server-fingerprint/,
    );
    await expect(getJson(base, '/x', 't', schema)).rejects.toThrow(/not signed by a trusted CA/);
    await expect(getJson(`http://127.0.0.1:${port}`, '/x', 't', schema)).rejects.toThrow(/aggregator unreachable/);
    await expect(getJson('http://192.0.2.1:7300', '/x', 't', schema)).rejects.toThrow(
      /refusing plain http:\/\/ to 192\.0\.2\.1:7300/,
    );
  });
});
