/**
 * Listening sockets from /proc/net/{tcp,tcp6,udp,udp6} -> `network.listen.tcp.<port>` and
 * `network.listen.udp.<port>` = sorted bind addresses (`0.0.0.0`, `::`, `127.0.0.1`...).
 * TCP counts sockets in state 0A (LISTEN); UDP counts bound sockets with no remote peer
 * (remote address and port 0), what `ss -uln` lists. Only the agent's network namespace is seen.
 *
 * Sockets on ports inside the kernel's ephemeral range (net.ipv4.ip_local_port_range) are
 * dynamically assigned (port 0 binds, test servers, RPC callbacks): a port number there differs on
 * every host and every restart, so listing it would be pure noise. They are only counted, in
 * `network.listen.ephemeral.<protocol>` (volatile).
 */
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type FactMap, factPath } from '@envparity/shared';
import { decodeHostIPv4, decodeHostIPv6, sortAddresses } from './network-ip.js';

export type ListenProtocol = 'tcp' | 'udp';

export interface ListeningSocket {
  protocol: ListenProtocol;
  address: string;
  port: number;
}

const TCP_LISTEN = '0A';

/**
 * The first four fields (slot, local address, remote address, state) of each row after the header.
 * One scan of the whole table instead of splitting every row into all its fields: a busy host (an
 * aggregator, a proxy) has tens of thousands of rows, nearly all of them not listening.
 */
const ROW_FIELDS = /^[^\S\n]*[^\s]+[^\S\n]+([^\s]+)[^\S\n]+([^\s]+)[^\S\n]+([^\s]+)/gm;

/** Parses one /proc/net/{tcp,tcp6,udp,udp6} table, keeping listening sockets only. */
export function parseProcNetSockets(text: string, protocol: ListenProtocol, ipv6: boolean): ListeningSocket[] {
  const sockets: ListeningSocket[] = [];
  const header = text.indexOf('\n');
  if (header >= 0) addListeningRows(text, header + 1, protocol, ipv6, sockets);
  return sockets;
}

/** Adds the listening sockets of the rows of `text` from `from` on (whole rows only) to `sockets`. */
function addListeningRows(
  text: string,
  from: number,
  protocol: ListenProtocol,
  ipv6: boolean,
  sockets: ListeningSocket[],
): void {
  ROW_FIELDS.lastIndex = from;
  for (let row = ROW_FIELDS.exec(text); row; row = ROW_FIELDS.exec(text)) {
    const [, local, remote, state] = row as unknown as [string, string, string, string];
    if (protocol === 'tcp' && state.toUpperCase() !== TCP_LISTEN) continue;
    const [localHex, localPortHex] = local.split(':');
    const [remoteHex, remotePortHex] = remote.split(':');
    if (!localHex || !localPortHex || !remoteHex || !remotePortHex) continue;
    const port = Number.parseInt(localPortHex, 16);
    if (!Number.isInteger(port) || port === 0) continue;
    if (protocol !== 'tcp' && (!/^0+$/.test(remoteHex) || Number.parseInt(remotePortHex, 16) !== 0)) continue;
    try {
      const address = ipv6 ? decodeHostIPv6(localHex) : decodeHostIPv4(localHex);
      sockets.push({ protocol, address, port });
    } catch {
      // a malformed row: skip it
    }
  }
}

/** Bytes read from a table at a time. */
const READ_CHUNK_BYTES = 256 * 1024;

/**
 * Reads and parses one table a chunk at a time, as parseProcNetSockets() would parse the whole of
 * it: a host with 20,000 connections has a 3 MB /proc/net/tcp, which read whole was a 3 MB string
 * per table per pass (and as much again in the heap's high-water mark). ASCII, so latin1 decoding.
 */
export async function readProcNetSockets(
  file: string,
  protocol: ListenProtocol,
  ipv6: boolean,
): Promise<ListeningSocket[]> {
  const sockets: ListeningSocket[] = [];
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
    let carried = '';
    let headerSeen = false;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      const text = carried + buffer.toString('latin1', 0, bytesRead);
      const lastLineEnd = text.lastIndexOf('\n');
      if (lastLineEnd < 0) {
        carried = text;
        continue;
      }
      let from = 0;
      if (!headerSeen) {
        from = text.indexOf('\n') + 1;
        headerSeen = true;
      }
      addListeningRows(text.slice(0, lastLineEnd + 1), from, protocol, ipv6, sockets);
      carried = text.slice(lastLineEnd + 1);
    }
    if (headerSeen && carried) addListeningRows(carried, 0, protocol, ipv6, sockets);
    return sockets;
  } finally {
    await handle.close();
  }
}

/** An inclusive port range, e.g. [32768, 60999]. */
export type PortRange = readonly [number, number];

/** Groups sockets into `network.listen.<protocol>.<port>` facts; ephemeral ports are only counted. */
export function listenFacts(sockets: readonly ListeningSocket[], ephemeral: PortRange | null = null): FactMap {
  const byKey = new Map<string, { protocol: ListenProtocol; port: number; addresses: string[] }>();
  const ephemeralCounts: Record<ListenProtocol, Set<number>> = { tcp: new Set(), udp: new Set() };
  for (const socket of sockets) {
    if (ephemeral && socket.port >= ephemeral[0] && socket.port <= ephemeral[1]) {
      ephemeralCounts[socket.protocol].add(socket.port);
      continue;
    }
    const key = `${socket.protocol}:${socket.port}`;
    let entry = byKey.get(key);
    if (!entry) {
      entry = { protocol: socket.protocol, port: socket.port, addresses: [] };
      byKey.set(key, entry);
    }
    entry.addresses.push(socket.address);
  }
  const facts: FactMap = {};
  const entries = [...byKey.values()].sort((a, b) =>
    a.protocol === b.protocol ? a.port - b.port : a.protocol < b.protocol ? -1 : 1,
  );
  for (const { protocol, port, addresses } of entries) {
    facts[factPath('network', 'listen', protocol, String(port))] = sortAddresses(addresses);
  }
  if (ephemeral) {
    for (const protocol of ['tcp', 'udp'] as const) {
      facts[factPath('network', 'listen', 'ephemeral', protocol)] = ephemeralCounts[protocol].size;
    }
  }
  return facts;
}

const TABLES = [
  { file: 'tcp', protocol: 'tcp', ipv6: false },
  { file: 'tcp6', protocol: 'tcp', ipv6: true },
  { file: 'udp', protocol: 'udp', ipv6: false },
  { file: 'udp6', protocol: 'udp', ipv6: true },
] as const;

/** The kernel's ephemeral port range, or null when it cannot be read. */
export async function readEphemeralPortRange(procSys = '/proc/sys'): Promise<PortRange | null> {
  try {
    const [low, high] = (await readFile(join(procSys, 'net/ipv4/ip_local_port_range'), 'utf8'))
      .trim()
      .split(/\s+/)
      .map(Number);
    return Number.isInteger(low) && Number.isInteger(high) ? [low as number, high as number] : null;
  } catch {
    return null;
  }
}

/**
 * Listening sockets as facts. `ephemeral`: the range whose ports are only counted; by default the
 * kernel's; `null` lists every port.
 */
export async function collectListenFacts(
  procNet = '/proc/net',
  ephemeral: PortRange | null | undefined = undefined,
): Promise<FactMap> {
  const range = ephemeral === undefined ? await readEphemeralPortRange() : ephemeral;
  const tables = await Promise.all(
    TABLES.map(async ({ file, protocol, ipv6 }) => {
      try {
        return await readProcNetSockets(join(procNet, file), protocol, ipv6);
      } catch {
        return [];
      }
    }),
  );
  return listenFacts(tables.flat(), range);
}
