/**
 * Caps concurrent sockets per remote address, so one client cannot hold every socket the process
 * can open (slowloris, a runaway script). Loopback is exempt: the fleet simulator and local agents
 * connect thousands of sockets from 127.0.0.1 on purpose.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/** Concurrent sockets one remote address may hold (agents behind one NAT share an address). */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 256;

export interface ConnectionCapOptions {
  maxPerAddress?: number;
  /** Loopback is not counted (default): the fleet simulator and tests connect thousands from 127.0.0.1. */
  exemptLoopback?: boolean;
  /** Called for each socket destroyed at once (for a log line). */
  onRefused?: (address: string) => void;
}

/** Installs the cap on the server's `connection` event: a socket over it is destroyed at once. */
export function limitConnectionsPerAddress(
  server: Server,
  {
    maxPerAddress = DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
    exemptLoopback = true,
    onRefused = () => {},
  }: ConnectionCapOptions = {},
): void {
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress;
    if (!address || (exemptLoopback && isLoopbackAddress(address))) return;
    const count = open.get(address) ?? 0;
    if (count >= maxPerAddress) {
      socket.destroy();
      onRefused(address);
      return;
    }
    open.set(address, count + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
  });
}
