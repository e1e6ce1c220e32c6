/**
 * Opening the socket of a service probe (mysql greeting, redis, tcp banner): TCP to `host:port`,
 * or a unix socket when the host is a path (`/run/redis/redis.sock`), closed as soon as the probe's
 * signal aborts. Connection failures become plain sentences naming the endpoint.
 */
import { connect, isIPv6, type Socket } from 'node:net';

/** `127.0.0.1:6379`, `[::1]:6379`, or the socket path. */
export function endpointLabel(host: string, port: number): string {
  if (host.startsWith('/')) return host;
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** What a failed socket says, in words ("connection refused at 127.0.0.1:3306"). */
export function describeSocketError(error: unknown, host: string, port: number): string {
  const label = endpointLabel(host, port);
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused at ${label}`;
    case 'ECONNRESET':
    case 'EPIPE':
      return `connection reset by ${label}`;
    case 'ENOTFOUND':
      return `host ${host} not found`;
    case 'EAI_AGAIN':
      return `host ${host} cannot be resolved right now (EAI_AGAIN)`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${label} is unreachable (${code})`;
    case 'ETIMEDOUT':
      return `connecting to ${label} timed out`;
    case 'ENOENT':
      return `no socket at ${label}`;
    case 'EACCES':
      return `permission denied for ${label}`;
    default: {
      const reason = code ?? (error instanceof Error ? error.message : String(error));
      return `cannot connect to ${label} (${reason})`;
    }
  }
}

/**
 * Resolves with the connected socket or rejects with the plain-words reason. The socket is
 * destroyed when `signal` aborts, for its whole life: a probe cannot leave one open.
 */
export function connectSocket(host: string, port: number, signal: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error(`cancelled before connecting to ${endpointLabel(host, port)}`));
    const socket = host.startsWith('/') ? connect({ path: host }) : connect({ host, port });
    const onAbort = () => socket.destroy(new Error(`cancelled while talking to ${endpointLabel(host, port)}`));
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('close', () => signal.removeEventListener('abort', onAbort));
    const onConnectError = (error: Error) => reject(new Error(describeSocketError(error, host, port)));
    socket.once('error', onConnectError);
    socket.once('connect', () => {
      socket.off('error', onConnectError);
      // A later error must never be uncaught; readers attach their own listeners and see `close`.
      socket.on('error', () => {});
      resolve(socket);
    });
  });
}
