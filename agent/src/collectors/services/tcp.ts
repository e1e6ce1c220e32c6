/**
 * The tcp probe: reachable when a TCP (or unix socket) connection opens, and the `banner`, the
 * first line a server sends on its own (SSH, SMTP, FTP), read for a short while after connecting.
 * Servers that wait for the client (HTTP, TLS) send nothing: no banner. Neither does a binary
 * greeting (MySQL's holds a random salt and would differ on every connection): only text counts.
 */
import type { Socket } from 'node:net';
import type { TcpServiceConfig } from '@envparity/shared';
import { connectSocket } from './tcp-connect.js';
import type { ServiceObservation, ServiceProbe } from './types.js';

/** How long a banner may take after the connect; well under any service timeout. */
export const BANNER_WAIT_MS = 500;
export const MAX_BANNER_CHARS = 200;
/** Bytes read at most while waiting for the first newline. */
const MAX_BANNER_BYTES = 4096;
/** A line of text: printable characters and tabs, nothing else before its end. */
const TEXT_LINE = /^[^\x00-\x08\x0a-\x1f\x7f]*$/u;

/** The first line of what the server sent, trimmed and capped, or undefined when it is not text. */
export function bannerLine(bytes: Buffer): string | undefined {
  const newline = bytes.indexOf(0x0a);
  const text = bytes.subarray(0, newline < 0 ? bytes.length : newline).toString('utf8');
  const line = text.replace(/\r$/, '');
  if (!TEXT_LINE.test(line) || line.includes('\uFFFD')) return undefined;
  const trimmed = line.trim();
  return trimmed === '' ? undefined : trimmed.slice(0, MAX_BANNER_CHARS);
}

/** Bytes until the first newline, the end of the stream, or `waitMs`, whichever comes first. */
function firstBytes(socket: Socket, waitMs: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', finish);
      resolve(Buffer.concat(chunks));
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (chunk.includes(0x0a) || size >= MAX_BANNER_BYTES) finish();
    };
    const timer = setTimeout(finish, waitMs);
    socket.on('data', onData);
    socket.once('close', finish);
  });
}

export const probeTcp: ServiceProbe<TcpServiceConfig> = async (
  spec,
  { signal, timeoutMs },
): Promise<ServiceObservation> => {
  const started = performance.now();
  let socket: Socket;
  try {
    socket = await connectSocket(spec.host, spec.port, signal);
  } catch (error) {
    return { reachable: false, facts: {}, error: error instanceof Error ? error.message : String(error) };
  }
  try {
    if (!spec.banner) return { reachable: true, facts: {} };
    // Half of what is left at most: the wait must never turn a reachable server into a timeout.
    const left = timeoutMs - (performance.now() - started);
    const banner = bannerLine(await firstBytes(socket, Math.min(BANNER_WAIT_MS, Math.max(0, left / 2))));
    return { reachable: true, facts: banner === undefined ? {} : { banner } };
  } finally {
    socket.destroy();
  }
};
