/**
 * Address decoding for /proc/net files. /proc/net/{route,tcp,udp} print IPv4 addresses as a u32 in
 * host byte order; /proc/net/{tcp6,udp6} print four such u32 words; /proc/net/ipv6_route prints
 * the 16 bytes in network order. IPv6 addresses are formatted per RFC 5952 (what Node prints).
 */
import { endianness } from 'node:os';

const LITTLE_ENDIAN = endianness() === 'LE';

/** 8 hex digits of a host-order u32 -> its 4 bytes in network order. */
function hostWordBytes(hex: string, littleEndian: boolean): number[] {
  const bytes = [0, 2, 4, 6].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
  return littleEndian ? bytes.reverse() : bytes;
}

/** `0100007F` -> `127.0.0.1` (on little-endian hosts). */
export function decodeHostIPv4(hex: string, littleEndian = LITTLE_ENDIAN): string {
  if (!/^[0-9A-Fa-f]{8}$/.test(hex)) throw new Error(`bad IPv4 hex ${JSON.stringify(hex)}`);
  return hostWordBytes(hex, littleEndian).join('.');
}

/** 32 hex digits as four host-order u32 words (tcp6/udp6) -> formatted IPv6. */
export function decodeHostIPv6(hex: string, littleEndian = LITTLE_ENDIAN): string {
  if (!/^[0-9A-Fa-f]{32}$/.test(hex)) throw new Error(`bad IPv6 hex ${JSON.stringify(hex)}`);
  const bytes: number[] = [];
  for (let i = 0; i < 32; i += 8) bytes.push(...hostWordBytes(hex.slice(i, i + 8), littleEndian));
  return formatIPv6(bytes);
}

/** 32 hex digits in network order (ipv6_route, if_inet6) -> formatted IPv6. */
export function decodeNetworkIPv6(hex: string): string {
  if (!/^[0-9A-Fa-f]{32}$/.test(hex)) throw new Error(`bad IPv6 hex ${JSON.stringify(hex)}`);
  const bytes: number[] = [];
  for (let i = 0; i < 32; i += 2) bytes.push(Number.parseInt(hex.slice(i, i + 2), 16));
  return formatIPv6(bytes);
}

/** 16 bytes -> RFC 5952 text (as inet_ntop prints it): lowercase, no leading zeros, longest zero run (>= 2 groups) as `::`. */
export function formatIPv6(bytes: readonly number[]): string {
  if (bytes.length !== 16) throw new Error('an IPv6 address has 16 bytes');
  // Like inet_ntop (what Node and ss print): IPv4-mapped (::ffff:127.0.0.1) and IPv4-compatible
  // (::1.2.3.4, not ::1 or ::) addresses keep a dotted tail.
  const tail = bytes.slice(12).join('.');
  if (bytes.slice(0, 10).every((b) => b === 0)) {
    if (bytes[10] === 0xff && bytes[11] === 0xff) return `::ffff:${tail}`;
    if (bytes[10] === 0 && bytes[11] === 0 && (bytes[12] !== 0 || bytes[13] !== 0)) return `::${tail}`;
  }
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] as number) << 8) | (bytes[i + 1] as number));
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLength < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** Sorts addresses IPv4 first, then IPv6, each in a stable text order; drops duplicates. */
export function sortAddresses(addresses: Iterable<string>): string[] {
  return [...new Set(addresses)].sort((a, b) => {
    const a6 = a.includes(':');
    const b6 = b.includes(':');
    if (a6 !== b6) return a6 ? 1 : -1;
    return a < b ? -1 : a > b ? 1 : 0;
  });
}
