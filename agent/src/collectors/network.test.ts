import { execFileSync } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { promises as dnsPromises } from 'node:dns';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { hostname, networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { type AgentConfigInput, type FactMap, factPath, validateAgentConfig } from '@envparity/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execCommand } from '../exec.js';
import { createSecretHasher } from '../secrets.js';
import { createNetworkCollector } from './network.js';
import type { CollectorContext } from './types.js';

const isLinux = process.platform === 'linux';

function makeContext(input: AgentConfigInput = {}): CollectorContext {
  const config = validateAgentConfig(input);
  const signal = new AbortController().signal;
  return {
    config,
    secrets: createSecretHasher('test-fleet-key', config.secrets),
    signal,
    exec: (file, args, options = {}) => execCommand(file, args, { signal, ...options }),
  };
}

const commandWorks = (file: string, args: string[]) => {
  try {
    execFileSync(file, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

function listen(server: Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
}

const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

describe('networkCollector: the real system', () => {
  const servers: Server[] = [];
  let udp: UdpSocket | undefined;
  let tcpPort = 0;
  let tcp6Port = 0;
  let udpPort = 0;
  let facts: FactMap;
  let ssPortsBefore: Set<number> | undefined;

  const ssTcpPorts = () => {
    const out = execFileSync('ss', ['-ltnH'], { encoding: 'utf8' });
    return new Set(
      out
        .split('\n')
        .map((line) => line.trim().split(/\s+/)[3])
        .filter((local): local is string => Boolean(local))
        .map((local) => Number(local.slice(local.lastIndexOf(':') + 1))),
    );
  };

  beforeAll(async () => {
    const server = createServer();
    servers.push(server);
    tcpPort = await listen(server, '127.0.0.1');
    try {
      const server6 = createServer();
      tcp6Port = await listen(server6, '::1');
      servers.push(server6);
    } catch {
      tcp6Port = 0; // no IPv6 loopback here
    }
    udp = createSocket('udp4');
    await new Promise<void>((resolve) => udp?.bind(0, '127.0.0.1', () => resolve()));
    udpPort = udp.address().port;
    if (isLinux && commandWorks('ss', ['-ltnH'])) ssPortsBefore = ssTcpPorts();
    facts = await createNetworkCollector({ ephemeralPorts: null }).collect(
      makeContext({ watch: { resolve: ['localhost'] } }),
    );
  });

  afterAll(async () => {
    await Promise.all(servers.map(close));
    udp?.close();
  });

  it.runIf(isLinux)('lists the TCP and UDP sockets the test opened, with their bind address', () => {
    expect(facts[factPath('network', 'listen', 'tcp', String(tcpPort))]).toContain('127.0.0.1');
    expect(facts[factPath('network', 'listen', 'udp', String(udpPort))]).toContain('127.0.0.1');
    if (tcp6Port) expect(facts[factPath('network', 'listen', 'tcp', String(tcp6Port))]).toContain('::1');
    for (const [path, value] of Object.entries(facts)) {
      if (!path.startsWith('network.listen.')) continue;
      expect(path).toMatch(/^network\.listen\.(tcp|udp)\.\d+$/);
      expect(Array.isArray(value) && value.length > 0).toBe(true);
    }
  });

  it.runIf(isLinux && commandWorks('ss', ['-ltnH']))('every TCP port `ss -ltn` reports is listed', () => {
    const after = ssTcpPorts();
    const stable = [...(ssPortsBefore ?? [])].filter((port) => after.has(port));
    expect(stable).toContain(tcpPort);
    for (const port of stable)
      expect(facts[factPath('network', 'listen', 'tcp', String(port))], `port ${port}`).toBeDefined();
  });

  it.runIf(existsSync('/etc/resolv.conf'))('nameservers equal the nameserver lines of /etc/resolv.conf', async () => {
    const text = await readFile('/etc/resolv.conf', 'utf8');
    const expected = [...text.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1]);
    expect(facts['network.dns.nameservers']).toEqual(expected);
    const search = [...text.matchAll(/^\s*(?:search|domain)\s+(.+)$/gm)].at(-1)?.[1]?.trim().split(/\s+/) ?? [];
    expect(facts['network.dns.search']).toEqual(search);
  });

  it('interfaces: addresses from os.networkInterfaces(), MTU and state from /sys', () => {
    const interfaces = networkInterfaces();
    for (const [name, infos] of Object.entries(interfaces)) {
      const addresses = facts[factPath('network', 'interface', name, 'addresses')] as string[];
      expect(new Set(addresses)).toEqual(new Set((infos ?? []).map((i) => i.cidr)));
      const mtuFile = `/sys/class/net/${name}/mtu`;
      if (existsSync(mtuFile)) {
        expect(facts[factPath('network', 'interface', name, 'mtu')]).toBe(Number(readFileSync(mtuFile, 'utf8')));
        expect(facts[factPath('network', 'interface', name, 'state')]).toBe(
          readFileSync(`/sys/class/net/${name}/operstate`, 'utf8').trim(),
        );
      }
    }
    expect(Object.keys(facts).some((p) => p.endsWith('.mac'))).toBe(false);
  });

  it.runIf(isLinux && commandWorks('ip', ['route', 'show', 'default']))('the default gateway equals `ip route`', () => {
    const best = (out: string) =>
      out
        .split('\n')
        .map((line) => /^default via (\S+) dev (\S+)(?:.*\bmetric (\d+))?/.exec(line.trim()))
        .filter((m): m is RegExpExecArray => m !== null)
        .sort((a, b) => Number(a[3] ?? 0) - Number(b[3] ?? 0))[0];
    const v4 = best(execFileSync('ip', ['-4', 'route', 'show', 'default'], { encoding: 'utf8' }));
    expect(facts['network.gateway.ipv4']).toBe(v4?.[1]);
    expect(facts['network.gateway.interface']).toBe(v4?.[2]);
    const v6 = best(execFileSync('ip', ['-6', 'route', 'show', 'default'], { encoding: 'utf8' }));
    expect(facts['network.gateway.ipv6']).toBe(v6?.[1]);
    expect(facts['network.gateway.ipv6Interface']).toBe(v6?.[2]);
  });

  it('resolves declared names like the system resolver', async () => {
    const expected = [...new Set((await dnsPromises.lookup('localhost', { all: true })).map((a) => a.address))];
    expect(new Set(facts['network.resolve.localhost'] as string[])).toEqual(new Set(expected));
  });

  it.runIf(existsSync('/etc/hosts'))('/etc/hosts entries, without the host own name', async () => {
    const text = await readFile('/etc/hosts', 'utf8');
    const own = hostname().toLowerCase();
    const expected = new Map<string, Set<string>>();
    for (const line of text.split('\n')) {
      const [address, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
      for (const name of address ? names : []) {
        const key = name.toLowerCase();
        if (key === own || key === own.split('.')[0]) continue;
        expected.set(key, (expected.get(key) ?? new Set()).add(address as string));
      }
    }
    const got = Object.entries(facts).filter(([p]) => p.startsWith('network.hosts'));
    expect(got).toHaveLength(expected.size);
    for (const [name, addresses] of expected) {
      expect(new Set(facts[factPath('network', 'hosts', name)] as string[])).toEqual(addresses);
    }
  });

  it('values are scalars or short arrays', () => {
    for (const value of Object.values(facts)) {
      if (Array.isArray(value)) {
        expect(value.length).toBeLessThan(256);
        for (const item of value)
          expect(['string', 'number', 'boolean'].includes(typeof item) || item === null).toBe(true);
      } else {
        expect(['string', 'number', 'boolean'].includes(typeof value) || value === null).toBe(true);
      }
    }
  });
});

describe('networkCollector: declared names', () => {
  it('records the error code of a failed lookup, and a timeout', async () => {
    const collector = createNetworkCollector({
      timeoutMs: 200,
      lookup: async (name) => {
        if (name === 'hangs.test') return new Promise(() => {});
        throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
      },
    });
    const facts = await collector.collect(makeContext({ watch: { resolve: ['nothing.test', 'hangs.test'] } }));
    expect(facts['network.resolve["nothing.test"]']).toBe('ENOTFOUND');
    expect(facts['network.resolve["hangs.test"]']).toBe('ETIMEOUT');
  });

  it('sorts and deduplicates addresses', async () => {
    const collector = createNetworkCollector({
      lookup: async () => [
        { address: '10.0.0.2', family: 4 },
        { address: '::1', family: 6 },
        { address: '10.0.0.1', family: 4 },
        { address: '10.0.0.2', family: 4 },
      ],
    });
    const facts = await collector.collect(makeContext({ watch: { resolve: ['db.internal'] } }));
    expect(facts['network.resolve["db.internal"]']).toEqual(['10.0.0.1', '10.0.0.2', '::1']);
  });
});

describe.skipIf(!commandWorks('openssl', ['version']))('networkCollector: TLS endpoints', () => {
  let dir: string;
  let tlsServer: ReturnType<typeof createTlsServer>;
  let silent: Server;
  let tlsPort = 0;
  let silentPort = 0;
  let closedPort = 0;
  let certPem: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'envparity-tls-'));
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
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
        key,
        '-out',
        cert,
        '-days',
        '2',
        '-subj',
        '/O=envparity/CN=envparity-test',
        '-addext',
        'subjectAltName=DNS:localhost,DNS:api.envparity.test,IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    certPem = await readFile(cert, 'utf8');
    tlsServer = createTlsServer({ key: await readFile(key), cert: certPem });
    tlsServer.on('tlsClientError', () => {});
    tlsPort = await listen(tlsServer, '127.0.0.1');
    // accepts TCP and reads, but never answers the TLS handshake
    silent = createServer((socket) => socket.resume());
    silentPort = await listen(silent, '127.0.0.1');
    const closed = createServer();
    closedPort = await listen(closed, '127.0.0.1');
    await close(closed);
  });

  afterAll(async () => {
    await Promise.all([close(tlsServer), close(silent)]);
    await rm(dir, { recursive: true, force: true });
  });

  const opensslField = (...args: string[]) =>
    execFileSync('openssl', ['x509', '-noout', ...args], { input: certPem, encoding: 'utf8' }).trim();

  it('records subject, issuer, SANs, validity, sha256 and the verification result', async () => {
    const endpoint = `127.0.0.1:${tlsPort}`;
    const facts = await createNetworkCollector().collect(makeContext({ watch: { tls: [endpoint] } }));
    const at = (field: string) => facts[factPath('network', 'tls', endpoint, field)];
    expect(at('error')).toBeUndefined();
    expect(at('subject')).toBe('O=envparity, CN=envparity-test');
    expect(at('issuer')).toBe('O=envparity, CN=envparity-test');
    expect(at('sans')).toEqual(['DNS:api.envparity.test', 'DNS:localhost', 'IP:127.0.0.1']);
    expect(at('sha256')).toBe(opensslField('-fingerprint', '-sha256').split('=')[1]);
    expect(at('notAfter')).toBe(new Date(opensslField('-enddate').split('=')[1] as string).toISOString());
    expect(at('notBefore')).toBe(new Date(opensslField('-startdate').split('=')[1] as string).toISOString());
    expect(at('authorized')).toBe(false);
    expect(at('authorizationError')).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(at('protocol')).toMatch(/^TLSv1\.[23]$/);
  });

  it('records connection failures as the error code, and times out on a silent peer', async () => {
    const refused = `127.0.0.1:${closedPort}`;
    const hanging = `127.0.0.1:${silentPort}`;
    const started = performance.now();
    const facts = await createNetworkCollector({ timeoutMs: 300 }).collect(
      makeContext({ watch: { tls: [refused, hanging] } }),
    );
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(facts[factPath('network', 'tls', refused, 'error')]).toBe('ECONNREFUSED');
    expect(facts[factPath('network', 'tls', hanging, 'error')]).toBe('ETIMEDOUT');
    expect(facts[factPath('network', 'tls', hanging, 'subject')]).toBeUndefined();
  });
});
