/**
 * Network interfaces: the union of /sys/class/net and os.networkInterfaces() ->
 * `network.interface.<if>.mtu` (number), `.state` (operstate: up, down, unknown...) and
 * `.addresses` (sorted CIDRs; volatile). MAC addresses are identity and belong to the host
 * collector, so they are not recorded here. No systeminformation: its networkInterfaces() runs
 * execSync per interface.
 */
import { readdir, readFile } from 'node:fs/promises';
import { type NetworkInterfaceInfo, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { type FactMap, factPath } from '@envparity/shared';
import { sortAddresses } from './network-ip.js';

export interface InterfaceFactsOptions {
  sysClassNet?: string;
  interfaces?: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
}

async function readTrimmed(file: string): Promise<string | undefined> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

export async function collectInterfaceFacts({
  sysClassNet = '/sys/class/net',
  interfaces = networkInterfaces,
}: InterfaceFactsOptions = {}): Promise<FactMap> {
  const addressesByName = interfaces();
  const sysNames = await readdir(sysClassNet).catch(() => [] as string[]);
  const names = [...new Set([...sysNames, ...Object.keys(addressesByName)])].sort();
  const facts: FactMap = {};
  await Promise.all(
    names.map(async (name) => {
      const [mtu, state] = await Promise.all([
        readTrimmed(join(sysClassNet, name, 'mtu')),
        readTrimmed(join(sysClassNet, name, 'operstate')),
      ]);
      const at = (key: string) => factPath('network', 'interface', name, key);
      if (mtu !== undefined && /^\d+$/.test(mtu)) facts[at('mtu')] = Number(mtu);
      if (state) facts[at('state')] = state;
      const cidrs = (addressesByName[name] ?? []).map(
        (info) => info.cidr ?? `${info.address}${info.family === 'IPv6' ? '/128' : '/32'}`,
      );
      facts[at('addresses')] = sortAddresses(cidrs);
    }),
  );
  return facts;
}
