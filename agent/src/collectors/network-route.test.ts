import { describe, expect, it } from 'vitest';
import { parseIPv4DefaultRoute, parseIPv6DefaultRoute } from './network-route.js';

describe('network-route', () => {
  it('picks the usable IPv4 default route with the lowest metric', () => {
    const text = [
      'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
      'eth1\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0',
      'eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0',
      'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
      'eth2\t00000000\t0100000A\t0001\t0\t0\t0\t00000000\t0\t0\t0',
    ].join('\n');
    expect(parseIPv4DefaultRoute(text)).toEqual({ gateway: '192.0.2.1', interface: 'eth0', metric: 100 });
    expect(parseIPv4DefaultRoute('Iface\tDestination\n')).toBeUndefined();
  });

  it('skips reject routes in ipv6_route', () => {
    const text = [
      'fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0',
      '00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000002 00000000 00000003     eth0',
      '00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo',
    ].join('\n');
    expect(parseIPv6DefaultRoute(text)).toEqual({ gateway: 'fd00::1', interface: 'eth0', metric: 1024 });
  });
});
