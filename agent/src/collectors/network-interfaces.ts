/**
 * Network interfaces: the union of /sys/class/net and os.networkInterfaces() ->
 * `network.interface.<if>.mtu` (number), `.state` (operstate: up, down, unknown...) and
 * `.addresses` (sorted CIDRs; volatile). MAC addresses are identity and belong to the host
 * collector, so they are not recorded here. systeminformation gives MTU and state only where
 * /sys/class/net cannot be read (another OS, a container without /sys): its networkInterfaces()
 * runs execSync per interface and blocks the event loop, so it is never the normal path.
 */
import { readdir, readFile } from 'node:fs/promises';
import { type NetworkInterfaceInfo, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { type FactMap, factPath } from '@envparity/shared';
import { sortAddresses } from './network-ip.js';
import {
  interfacesFromSystemInformation,
  loadSystemInformation,
  type SystemInformationLoader,
} from './system-information.js';

export interface InterfaceFactsOptions {
  sysClassNet?: string;
  interfaces?: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
  /** Loads systeminformation, the fallback for MTU and state where `sysClassNet` cannot be listed. */
  systemInformation?: SystemInformationLoader;
  /**
   * False in host mode without the host's network namespace: node:os and systeminformation would
   * describe the agent's interfaces, so only /sys (the host's) is read and no addresses are given.
   */
  agentNetworkIsHost?: boolean;
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
  systemInformation = loadSystemInformation,
  agentNetworkIsHost = true,
}: InterfaceFactsOptions = {}): Promise<FactMap> {
  const addressesByName = agentNetworkIsHost ? interfaces() : {};
  const sysNames = await readdir(sysClassNet).catch(() => undefined);
  // Only where /sys/class/net cannot be listed: the normal path never loads systeminformation.
  const fallback =
    sysNames === undefined && agentNetworkIsHost ? await interfacesFromSystemInformation(systemInformation) : undefined;
  const names = [
    ...new Set([...(sysNames ?? []), ...(fallback?.keys() ?? []), ...Object.keys(addressesByName)]),
  ].sort();
  const facts: FactMap = {};
  await Promise.all(
    names.map(async (name) => {
      const [mtu, state] = await Promise.all([
        readTrimmed(join(sysClassNet, name, 'mtu')),
        readTrimmed(join(sysClassNet, name, 'operstate')),
      ]);
      const at = (key: string) => factPath('network', 'interface', name, key);
      const known = fallback?.get(name);
      if (mtu !== undefined && /^\d+$/.test(mtu)) facts[at('mtu')] = Number(mtu);
      else if (known?.mtu !== undefined) facts[at('mtu')] = known.mtu;
      if (state) facts[at('state')] = state;
      else if (known?.state) facts[at('state')] = known.state;
      const cidrs = (addressesByName[name] ?? []).map(
        (info) => info.cidr ?? `${info.address}${info.family === 'IPv6' ? '/128' : '/32'}`,
      );
      if (agentNetworkIsHost) facts[at('addresses')] = sortAddresses(cidrs);
    }),
  );
  return facts;
}
