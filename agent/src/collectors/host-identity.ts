/** Pure helpers behind the host collector. */
import type { NetworkInterfaceInfo } from 'node:os';

/**
 * The canonical name of `hostname` in an /etc/hosts text: the first name of the first line that
 * lists it, which is what `hostname -f` prints when the files resolver answers.
 */
export function canonicalNameFromHosts(hostsText: string, hostname: string): string | undefined {
  const wanted = hostname.toLowerCase();
  for (const rawLine of hostsText.split('\n')) {
    const line = rawLine.replace(/#.*/, '').trim();
    if (!line) continue;
    const [, ...names] = line.split(/\s+/);
    if (names.some((name) => name.toLowerCase() === wanted)) return names[0];
  }
  return undefined;
}

/** Non-internal addresses, without IPv6 link-local ones (they derive from the MAC), sorted and unique. */
export function externalAddresses(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>): string[] {
  const addresses = new Set<string>();
  for (const entries of Object.values(interfaces)) {
    for (const entry of entries ?? []) {
      if (entry.internal) continue;
      if (entry.family === 'IPv6' && /^fe[89ab]/i.test(entry.address)) continue;
      addresses.add(entry.address);
    }
  }
  return [...addresses].sort();
}

const ZERO_MAC = '00:00:00:00:00:00';

/** True for a MAC worth reporting: well-formed and not all zeros. */
export function isUsableMac(mac: string): boolean {
  return /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac) && mac !== ZERO_MAC;
}
