import { SocketAddress } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeHostIPv4, decodeHostIPv6, decodeNetworkIPv6, formatIPv6, sortAddresses } from './network-ip.js';

describe('network-ip', () => {
  it('decodes host-order IPv4 words', () => {
    expect(decodeHostIPv4('0100007F', true)).toBe('127.0.0.1');
    expect(decodeHostIPv4('010200C0', true)).toBe('192.0.2.1');
    expect(decodeHostIPv4('7F000001', false)).toBe('127.0.0.1');
    expect(() => decodeHostIPv4('xyz', true)).toThrow();
  });

  it('decodes tcp6 words and ipv6_route bytes', () => {
    expect(decodeHostIPv6('00000000000000000000000001000000', true)).toBe('::1');
    expect(decodeHostIPv6('00000000000000000000000000000000', true)).toBe('::');
    expect(decodeHostIPv6('0000000000000000FFFF00000100007F', true)).toBe('::ffff:127.0.0.1');
    expect(decodeHostIPv6('B80D0120000000000000000001000000', true)).toBe('2001:db8::1');
    expect(decodeNetworkIPv6('fd000000000000000000000000000001')).toBe('fd00::1');
    expect(decodeNetworkIPv6('fe8000000000000000fc00fffe000001')).toBe('fe80::fc:ff:fe00:1');
  });

  it('formats IPv6 exactly as inet_ntop (Node) does', () => {
    const byte = fc.oneof(fc.constant(0), fc.constant(0xff), fc.integer({ min: 0, max: 255 }));
    fc.assert(
      fc.property(fc.array(byte, { minLength: 16, maxLength: 16 }), (bytes) => {
        const full = Array.from({ length: 8 }, (_, i) =>
          (((bytes[2 * i] as number) << 8) | (bytes[2 * i + 1] as number)).toString(16),
        ).join(':');
        expect(formatIPv6(bytes)).toBe(new SocketAddress({ address: full, family: 'ipv6' }).address);
      }),
      { numRuns: 2_000 },
    );
  });

  it('sorts IPv4 before IPv6 and drops duplicates', () => {
    expect(sortAddresses(['::1', '127.0.0.1', '10.0.0.1', '127.0.0.1'])).toEqual(['10.0.0.1', '127.0.0.1', '::1']);
  });
});
