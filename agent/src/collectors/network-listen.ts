/**
 * Listening sockets from /proc/net/{tcp,tcp6,udp,udp6} -> `network.listen.tcp.<port>` and
 * `network.listen.udp.<port>` = sorted bind addresses (`0.0.0.0`, `::`, `127.0.0.1`...).
 * TCP counts sockets in state 0A (LISTEN); UDP counts bound sockets with no remote peer
 * (remote address and port 0), what `ss -uln` lists. Only the agent's network namespace is seen.
 */
import { readFile } from 'node:fs/promises';
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

/** Parses one /proc/net/{tcp,tcp6,udp,udp6} table, keeping listening sockets only. */
export function parseProcNetSockets(text: string, protocol: ListenProtocol, ipv6: boolean): ListeningSocket[] {
  const sockets: ListeningSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 4) continue;
    const [, local, remote, state] = fields as [string, string, string, string];
    const [localHex, localPortHex] = local.split(':');
    const [remoteHex, remotePortHex] = remote.split(':');
    if (!localHex || !localPortHex || !remoteHex || !remotePortHex) continue;
    const port = Number.parseInt(localPortHex, 16);
    if (!Number.isInteger(port) || port === 0) continue;
    if (protocol === 'tcp') {
      if (state.toUpperCase() !== TCP_LISTEN) continue;
    } else if (!/^0+$/.test(remoteHex) || Number.parseInt(remotePortHex, 16) !== 0) {
      continue;
    }
    try {
      const address = ipv6 ? decodeHostIPv6(localHex) : decodeHostIPv4(localHex);
      sockets.push({ protocol, address, port });
    } catch {
      // a malformed row: skip it
    }
  }
  return sockets;
}

/** Groups sockets into `network.listen.<protocol>.<port>` facts. */
export function listenFacts(sockets: readonly ListeningSocket[]): FactMap {
  const byKey = new Map<string, { protocol: ListenProtocol; port: number; addresses: string[] }>();
  for (const socket of sockets) {
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
  return facts;
}

const TABLES = [
  { file: 'tcp', protocol: 'tcp', ipv6: false },
  { file: 'tcp6', protocol: 'tcp', ipv6: true },
  { file: 'udp', protocol: 'udp', ipv6: false },
  { file: 'udp6', protocol: 'udp', ipv6: true },
] as const;

export async function collectListenFacts(procNet = '/proc/net'): Promise<FactMap> {
  const tables = await Promise.all(
    TABLES.map(async ({ file, protocol, ipv6 }) => {
      try {
        return parseProcNetSockets(await readFile(join(procNet, file), 'utf8'), protocol, ipv6);
      } catch {
        return [];
      }
    }),
  );
  return listenFacts(tables.flat());
}
