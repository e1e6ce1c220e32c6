import { describe, expect, it } from 'vitest';
import { listenFacts, parseProcNetSockets } from './network-listen.js';

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
