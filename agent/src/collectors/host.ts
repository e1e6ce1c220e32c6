import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { type FactMap, factPath } from '@envparity/shared';
import { canonicalNameFromHosts, externalAddresses, isUsableMac } from './host-identity.js';
import { listDir, readLinkTarget, readText, readTrimmed, requireFacts } from './os-files.js';
import type { Collector } from './types.js';

const MACHINE_ID_FILES = ['/etc/machine-id', '/var/lib/dbus/machine-id'];
const SYS_NET = '/sys/class/net';
/** addr_assign_type 1: the kernel picked a random MAC (ifb, dummy, many veths); it changes on every boot. */
const RANDOM_MAC = '1';

/**
 * Host identity: hostname, FQDN (from /etc/hosts only: no DNS query), machine id, external
 * addresses and MAC addresses. All `identity` class: shown, never compared.
 */
export const hostCollector: Collector = {
  name: 'host',
  async collect() {
    const facts: FactMap = {};
    const name = safeHostname();
    const [hosts, machineId, macs] = await Promise.all([readText('/etc/hosts'), readMachineId(), readMacs()]);
    if (name) {
      facts[factPath('host', 'hostname')] = name;
      const fqdn = name.includes('.') ? name : hosts ? canonicalNameFromHosts(hosts, name) : undefined;
      if (fqdn) facts[factPath('host', 'fqdn')] = fqdn;
    }
    if (machineId) facts[factPath('host', 'machineId')] = machineId;
    const interfaces = safeInterfaces();
    facts[factPath('host', 'addresses')] = externalAddresses(interfaces);
    facts[factPath('host', 'macs')] = macs ?? macsFromInterfaces(interfaces);
    return requireFacts('host', facts);
  },
};

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

async function readMachineId(): Promise<string | undefined> {
  for (const file of MACHINE_ID_FILES) {
    const id = await readTrimmed(file);
    if (id) return id;
  }
  return undefined;
}

/**
 * MACs from /sys/class/net, including interfaces that are down. Hardware-backed interfaces win;
 * when there are none (a container's veth), virtual ones whose MAC is not random are used.
 * Undefined when /sys is not readable.
 */
async function readMacs(): Promise<string[] | undefined> {
  const names = await listDir(SYS_NET);
  if (names.length === 0) return undefined;
  const entries = await Promise.all(
    names.map(async (name) => {
      const dir = join(SYS_NET, name);
      const [address, assignType, link] = await Promise.all([
        readTrimmed(join(dir, 'address')),
        readTrimmed(join(dir, 'addr_assign_type')),
        readLinkTarget(dir),
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
