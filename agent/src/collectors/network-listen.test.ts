import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listenFacts, parseProcNetSockets, readProcNetSockets } from './network-listen.js';

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';

describe('network-listen', () => {
  it('keeps TCP sockets in LISTEN only', () => {
    const text =
      HEADER +
      '   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n' +
      '   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0\n' +
      '   2: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0 100 0 0 10 0\n';
    expect(parseProcNetSockets(text, 'tcp', false)).toEqual([
      { protocol: 'tcp', address: '0.0.0.0', port: 22 },
      { protocol: 'tcp', address: '127.0.0.1', port: 8080 },
    ]);
  });

  it('keeps unconnected UDP sockets only', () => {
    const text =
      HEADER +
      '13354: 0100007F:E328 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1 2 0 0\n' +
      '13355: 0100007F:E329 0100007F:0035 01 00000000:00000000 00:00000000 00000000     0        0 2 2 0 0\n';
    expect(parseProcNetSockets(text, 'udp', false)).toEqual([{ protocol: 'udp', address: '127.0.0.1', port: 58152 }]);
  });

  it('finds the listening rows among many connected ones, skipping short and malformed rows', () => {
    const connected =
      '   9: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 3 1\n';
    const text =
      HEADER +
      connected.repeat(5_000) +
      '  10: 0100007F:0CEA 00000000:0000 0a 00000000:00000000 00:00000000 00000000     0        0 4 1\n' +
      '  11: 0100007F:0CEB\n' +
      '  12: 0100007F 00000000:0000 0A 0\n' +
      '  13: 00000000:0000 00000000:0000 0A 0\n' +
      connected.repeat(5_000) +
      '\t14:\t0100007F:0CEC  00000000:0000\t0A';
    expect(parseProcNetSockets(text, 'tcp', false)).toEqual([
      { protocol: 'tcp', address: '127.0.0.1', port: 3306 },
      { protocol: 'tcp', address: '127.0.0.1', port: 3308 },
    ]);
    expect(parseProcNetSockets('', 'tcp', false)).toEqual([]);
  });

  it('reads a table larger than its read chunk as parsing it whole does', async () => {
    const rows: string[] = [];
    for (let i = 0; i < 12_000; i++) {
      const port = (1024 + i).toString(16).toUpperCase().padStart(4, '0');
      const state = i % 997 === 0 ? '0A' : '01';
      rows.push(
        `${String(i).padStart(5)}: 0100007F:${port} 0100007F:D431 ${state} 00000000:00000000 00:00000000 0 0 ${i} 1`,
      );
    }
    const text = `${HEADER}${rows.join('\n')}`;
    const dir = await mkdtemp(join(tmpdir(), 'envparity-listen-'));
    try {
      await writeFile(join(dir, 'tcp'), text);
      const read = await readProcNetSockets(join(dir, 'tcp'), 'tcp', false);
      expect(text.length).toBeGreaterThan(3 * 256 * 1024);
      expect(read).toHaveLength(13);
      expect(read).toEqual(parseProcNetSockets(text, 'tcp', false));
      await writeFile(join(dir, 'tcp'), HEADER.trimEnd());
      expect(await readProcNetSockets(join(dir, 'tcp'), 'tcp', false)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('decodes tcp6 addresses, v4-mapped included', () => {
    const text =
      HEADER +
      '   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 0 0 0 0 0 1\n' +
      '   1: 0000000000000000FFFF00000100007F:0050 00000000000000000000000000000000:0000 0A 0 0 0 0 0 2\n';
    expect(parseProcNetSockets(text, 'tcp', true).map((s) => s.address)).toEqual(['::', '::ffff:127.0.0.1']);
  });

  it('groups by protocol and port, addresses sorted and unique', () => {
    expect(
      listenFacts([
        { protocol: 'tcp', address: '::', port: 22 },
        { protocol: 'tcp', address: '0.0.0.0', port: 22 },
        { protocol: 'udp', address: '127.0.0.1', port: 53 },
        { protocol: 'tcp', address: '0.0.0.0', port: 22 },
      ]),
    ).toEqual({ 'network.listen.tcp.22': ['0.0.0.0', '::'], 'network.listen.udp.53': ['127.0.0.1'] });
  });

  it('only counts sockets in the ephemeral range', () => {
    const sockets = [
      { protocol: 'tcp', address: '0.0.0.0', port: 22 },
      { protocol: 'tcp', address: '127.0.0.1', port: 40001 },
      { protocol: 'tcp', address: '127.0.0.1', port: 40002 },
      { protocol: 'udp', address: '0.0.0.0', port: 50000 },
    ] as const;
    expect(listenFacts(sockets, [32768, 60999])).toEqual({
      'network.listen.tcp.22': ['0.0.0.0'],
      'network.listen.ephemeral.tcp': 2,
      'network.listen.ephemeral.udp': 1,
    });
  });
});
