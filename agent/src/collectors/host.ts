import { hostname, networkInterfaces } from 'node:os';
import { posix } from 'node:path';
import { type FactMap, factPath } from '@envparity/shared';
import { hostNameOf, machineIdOf } from '../host-id.js';
import { type HostFs, readTrimmedIn } from './host-fs.js';
import { canonicalNameFromHosts, externalAddresses, isUsableMac } from './host-identity.js';
import { sharesHostNamespace } from './host-namespace.js';
import { requireFacts } from './os-files.js';
import { type Collector, hostFsOf } from './types.js';

const SYS_NET = '/sys/class/net';
/** addr_assign_type 1: the kernel picked a random MAC (ifb, dummy, many veths); it changes on every boot. */
const RANDOM_MAC = '1';

/**
 * Host identity: hostname, FQDN (from /etc/hosts only: no DNS query), machine id, external
 * addresses and MAC addresses. All `identity` class: shown, never compared.
 *
 * In host mode `host.root` names the directory the host's files were read under, the hostname is
 * the host's /etc/hostname unless the agent shares the host's UTS namespace, and the addresses are
 * reported only when the agent shares the host's network namespace (`hostNetwork`): otherwise
 * node:os would list the container's, so they are left out and the errors say why.
 */
export const hostCollector: Collector = {
  name: 'host',
  async collect(context) {
    const host = hostFsOf(context);
    const facts: FactMap = {};
    const [name, hosts, machineId, macs, sameNet] = await Promise.all([
      hostNameFor(host),
      host.readText('/etc/hosts'),
      machineIdOf(host),
      readMacs(host),
      host.hostMode ? sharesHostNamespace(host, 'net') : Promise.resolve(true),
    ]);
    if (host.hostMode) facts[factPath('host', 'root')] = host.root;
    if (name) {
      facts[factPath('host', 'hostname')] = name;
      const fqdn = name.includes('.') ? name : hosts ? canonicalNameFromHosts(hosts, name) : undefined;
      if (fqdn) facts[factPath('host', 'fqdn')] = fqdn;
    } else if (host.hostMode) {
      context.reportError?.(`host name: no /etc/hostname under the host root ${host.root}`);
    }
    if (machineId) facts[factPath('host', 'machineId')] = machineId;
    else if (host.hostMode) context.reportError?.(`machine id: no /etc/machine-id under the host root ${host.root}`);
    const interfaces = sameNet ? safeInterfaces() : {};
    if (sameNet) facts[factPath('host', 'addresses')] = externalAddresses(interfaces);
    else
      context.reportError?.(
        "host addresses: the agent does not share the host's network namespace (run it with the host network); not reported",
      );
    const chosen = macs ?? (sameNet ? macsFromInterfaces(interfaces) : undefined);
    if (chosen) facts[factPath('host', 'macs')] = chosen;
    return requireFacts('host', facts);
  },
};

/** The hostname: the kernel's, unless in host mode without the host's UTS namespace (then /etc/hostname). */
async function hostNameFor(host: HostFs): Promise<string | undefined> {
  if (host.hostMode && (await sharesHostNamespace(host, 'uts'))) return safeHostname();
  return hostNameOf(host);
}

function safeHostname(): string | undefined {
  try {
    return hostname() || undefined;
  } catch {
    return undefined;
  }
}

function safeInterfaces(): ReturnType<typeof networkInterfaces> {
  try {
    return networkInterfaces();
  } catch {
    return {};
  }
}

/**
 * MACs from /sys/class/net, including interfaces that are down. Hardware-backed interfaces win;
 * when there are none (a container's veth), virtual ones whose MAC is not random are used.
 * Undefined when /sys is not readable.
 */
async function readMacs(host: HostFs): Promise<string[] | undefined> {
  const names = await host.listDir(SYS_NET);
  if (names.length === 0) return undefined;
  const entries = await Promise.all(
    names.map(async (name) => {
      const dir = posix.join(SYS_NET, name);
      const [address, assignType, link] = await Promise.all([
        readTrimmedIn(host, posix.join(dir, 'address')),
        readTrimmedIn(host, posix.join(dir, 'addr_assign_type')),
        host.readLink(dir),
      ]);
      return { address: address?.toLowerCase(), assignType, virtual: !link || link.includes('/devices/virtual/') };
    }),
  );
  const usable = entries.filter((entry) => entry.address !== undefined && isUsableMac(entry.address));
  const hardware = usable.filter((entry) => !entry.virtual);
  const chosen = hardware.length > 0 ? hardware : usable.filter((entry) => entry.assignType !== RANDOM_MAC);
  return [...new Set(chosen.map((entry) => entry.address as string))].sort();
}

function macsFromInterfaces(interfaces: ReturnType<typeof networkInterfaces>): string[] {
  const macs = new Set<string>();
  for (const entries of Object.values(interfaces)) {
    for (const entry of entries ?? []) if (!entry.internal && isUsableMac(entry.mac)) macs.add(entry.mac.toLowerCase());
  }
  return [...macs].sort();
}
