/**
 * One-shot enrollment for `verify` and `baseline` on a host whose state dir has no fleet key yet:
 * secrets must hash exactly as the running agent would hash them, and that takes the fleet key.
 */
import { CLOSE_CODES, decodeServerMessage, encodeMessage, PROTOCOL_VERSION } from '@envparity/shared';
import WebSocket from 'ws';
import { agentChannelUrl } from './daemon/aggregator-url.js';
import { type Credentials, saveCredentials } from './daemon/credentials.js';
import { AGENT_VERSION } from './version.js';

export const DEFAULT_ENROLL_TIMEOUT_MS = 10_000;

export class EnrollError extends Error {
  readonly code = 'ENROLL_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EnrollError';
  }
}

export interface EnrollOnceOptions {
  aggregator: string;
  enrollSecret: string;
  hostId: string;
  environment?: string;
  labels?: Record<string, string>;
  stateDir: string;
  timeoutMs?: number;
}

/** Enrolls, saves token and fleet key (0600) in the state dir, and closes the socket. */
export async function enrollOnce(options: EnrollOnceOptions): Promise<Credentials> {
  const url = agentChannelUrl(options.aggregator);
  const credentials = await new Promise<Credentials>((resolve, reject) => {
    const socket = new WebSocket(url, { handshakeTimeout: options.timeoutMs ?? DEFAULT_ENROLL_TIMEOUT_MS });
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new EnrollError(`enrollment timed out after ${options.timeoutMs ?? DEFAULT_ENROLL_TIMEOUT_MS} ms`));
    }, options.timeoutMs ?? DEFAULT_ENROLL_TIMEOUT_MS);
    const fail = (message: string, cause?: unknown) => {
      clearTimeout(timer);
      reject(new EnrollError(message, { cause }));
    };
    socket.on('open', () => {
      socket.send(
        encodeMessage({
          type: 'enroll',
          v: PROTOCOL_VERSION,
          enrollSecret: options.enrollSecret,
          hostId: options.hostId,
          ...(options.environment ? { environment: options.environment } : {}),
          labels: options.labels ?? {},
          agentVersion: AGENT_VERSION,
        }),
      );
    });
    socket.on('message', (data: Buffer) => {
      try {
        const message = decodeServerMessage(data);
        if (message.type !== 'enrolled') return;
        clearTimeout(timer);
        socket.close(CLOSE_CODES.normal);
        resolve({ token: message.token, fleetKey: message.fleetKey });
      } catch (cause) {
        socket.terminate();
        fail(`bad answer from the aggregator: ${(cause as Error).message}`, cause);
      }
    });
    socket.on('close', (code, reason) => {
      if (code === CLOSE_CODES.enrollRefused) fail('enrollment refused: wrong enroll secret');
      else fail(`aggregator closed the connection during enrollment (${code} ${reason.toString()})`);
    });
    socket.on('error', (cause) => fail(`cannot reach the aggregator at ${url}: ${cause.message}`, cause));
  });
  await saveCredentials(options.stateDir, credentials);
  return credentials;
}
