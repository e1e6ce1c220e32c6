/**
 * Default gateways from /proc/net/route and /proc/net/ipv6_route -> `network.gateway.ipv4`,
 * `network.gateway.interface` (the IPv4 default route's device), `network.gateway.ipv6` and
 * `network.gateway.ipv6Interface`. The usable default route with the lowest metric wins.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type FactMap, factPath } from '@envparity/shared';
import { decodeHostIPv4, decodeNetworkIPv6 } from './network-ip.js';

const RTF_UP = 0x1;
const RTF_GATEWAY = 0x2;
const RTF_REJECT = 0x200;

export interface DefaultRoute {
  gateway: string;
  interface: string;
  metric: number;
}

function isUsableGatewayRoute(flags: number): boolean {
  return (flags & RTF_UP) !== 0 && (flags & RTF_GATEWAY) !== 0 && (flags & RTF_REJECT) === 0;
}

function lowestMetric(routes: DefaultRoute[]): DefaultRoute | undefined {
  return routes.reduce<DefaultRoute | undefined>(
    (best, route) => (!best || route.metric < best.metric ? route : best),
    undefined,
  );
}

/** /proc/net/route: Iface Destination Gateway Flags RefCnt Use Metric Mask ... (hex host-order u32s). */
export function parseIPv4DefaultRoute(text: string): DefaultRoute | undefined {
  const routes: DefaultRoute[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 8) continue;
    const [iface, destination, gateway, flags, , , metric, mask] = fields as string[];
    if (destination !== '00000000' || mask !== '00000000') continue;
    if (!isUsableGatewayRoute(Number.parseInt(flags as string, 16))) continue;
    try {
      routes.push({ gateway: decodeHostIPv4(gateway as string), interface: iface as string, metric: Number(metric) });
    } catch {
      // malformed row
    }
  }
  return lowestMetric(routes);
}

/** /proc/net/ipv6_route: dest plen src splen nexthop metric refcnt use flags device (hex, network order). */
export function parseIPv6DefaultRoute(text: string): DefaultRoute | undefined {
  const routes: DefaultRoute[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const [destination, prefixLength, , , nextHop, metric, , , flags, device] = fields as string[];
    if (!/^0{32}$/.test(destination as string) || prefixLength !== '00') continue;
    if (/^0{32}$/.test(nextHop as string)) continue;
    if (!isUsableGatewayRoute(Number.parseInt(flags as string, 16))) continue;
    try {
      routes.push({
        gateway: decodeNetworkIPv6(nextHop as string),
        interface: device as string,
        metric: Number.parseInt(metric as string, 16),
      });
    } catch {
      // malformed row
    }
  }
  return lowestMetric(routes);
}

export async function collectGatewayFacts(procNet = '/proc/net'): Promise<FactMap> {
  const read = (file: string) => readFile(join(procNet, file), 'utf8').catch(() => '');
  const [v4Text, v6Text] = await Promise.all([read('route'), read('ipv6_route')]);
  const facts: FactMap = {};
  const v4 = parseIPv4DefaultRoute(v4Text);
  if (v4) {
    facts[factPath('network', 'gateway', 'ipv4')] = v4.gateway;
    facts[factPath('network', 'gateway', 'interface')] = v4.interface;
  }
  const v6 = parseIPv6DefaultRoute(v6Text);
  if (v6) {
    facts[factPath('network', 'gateway', 'ipv6')] = v6.gateway;
    facts[factPath('network', 'gateway', 'ipv6Interface')] = v6.interface;
  }
  return facts;
}
