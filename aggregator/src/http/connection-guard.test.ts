import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { isLoopbackAddress, limitConnectionsPerAddress } from './connection-guard.js';

let server: Server | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function listen(
  options: Parameters<typeof limitConnectionsPerAddress>[1],
): Promise<{ port: number; refused: string[] }> {
  const refused: string[] = [];
  server = createServer((_req, res) => res.end('ok'));
  limitConnectionsPerAddress(server, { ...options, onRefused: (address) => refused.push(address) });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return { port: address.port, refused };
}

/** Opens a socket and resolves whether the server closed it within 300 ms. */
function opens(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    socket.on('error', () => {});
    const timer = setTimeout(() => resolve(true), 300);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

describe('limitConnectionsPerAddress', () => {
  it('destroys sockets over the cap at once and admits again when one closes', async () => {
    const { port, refused } = await listen({ maxPerAddress: 2, exemptLoopback: false });
    expect(await Promise.all([opens(port), opens(port)])).toEqual([true, true]);
    expect(await opens(port)).toBe(false);
    expect(refused).toEqual(['127.0.0.1']);
    sockets[0]?.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await opens(port)).toBe(true);
  });

  it('exempts loopback by default (fleet simulator, tests)', async () => {
    const { port, refused } = await listen({ maxPerAddress: 1 });
    expect(await Promise.all([opens(port), opens(port), opens(port)])).toEqual([true, true, true]);
    expect(refused).toEqual([]);
  });

  it('recognises loopback spellings', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1'])
      expect(isLoopbackAddress(address)).toBe(true);
    for (const address of ['10.0.0.1', '::ffff:10.0.0.1', '2001:db8::1', undefined])
      expect(isLoopbackAddress(address)).toBe(false);
  });
});
