/**
 * One WebSocket to the aggregator: binary msgpack frames decoded with the shared schemas, a ping
 * every `pingIntervalMs` (a connection whose pong does not come back by the next ping is
 * terminated, so a half-open TCP connection is noticed), and one `close` callback whatever ends
 * the socket. The session logic (enroll, hello, reports) lives in the daemon.
 */
import {
  type AgentMessage,
  decodeServerMessage,
  encodeMessage,
  MAX_FRAME_BYTES,
  ProtocolError,
  type ServerMessage,
} from '@envparity/shared';
import WebSocket from 'ws';
import type { ClientTlsOptions } from './tls-options.js';

export const DEFAULT_PING_INTERVAL_MS = 30_000;
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

export interface ConnectionHandlers {
  open(): void;
  message(message: ServerMessage): void;
  /** Exactly once per connection, also when it never opened (code 1006 then). */
  close(code: number, reason: string): void;
  /** Transport errors (refused, TLS, unexpected HTTP answer): logged, a `close` follows. */
  error(error: Error): void;
}

export interface ConnectionOptions {
  url: string;
  pingIntervalMs?: number;
  handshakeTimeoutMs?: number;
  /** Pinned CA and/or server fingerprint for wss:// (tls-options.ts). */
  tls?: ClientTlsOptions;
}

export class Connection {
  private readonly socket: WebSocket;
  private alive = true;
  private readonly pingTimer: NodeJS.Timeout;
  private closedFired = false;
  /** Resolves once the socket is closed. */
  readonly closed: Promise<void>;

  constructor(
    {
      url,
      pingIntervalMs = DEFAULT_PING_INTERVAL_MS,
      handshakeTimeoutMs = DEFAULT_HANDSHAKE_TIMEOUT_MS,
      tls = {},
    }: ConnectionOptions,
    private readonly handlers: ConnectionHandlers,
  ) {
    // ws hands these to tls.connect as they are (its typing of checkServerIdentity is not Node's).
    const tlsOptions = tls as WebSocket.ClientOptions;
    this.socket = new WebSocket(url, {
      maxPayload: MAX_FRAME_BYTES,
      handshakeTimeout: handshakeTimeoutMs,
      ...tlsOptions,
    });
    let resolveClosed: () => void = () => undefined;
    this.closed = new Promise((resolve) => {
      resolveClosed = resolve;
    });
    this.socket.on('open', () => {
      this.alive = true;
      this.guard('open', () => handlers.open());
    });
    this.socket.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    this.socket.on('pong', () => {
      this.alive = true;
    });
    this.socket.on('ping', () => {
      this.alive = true;
    });
    this.socket.on('error', (error) => this.guard('error', () => handlers.error(error)));
    this.socket.on('close', (code, reason) => {
      clearInterval(this.pingTimer);
      if (!this.closedFired) {
        this.closedFired = true;
        this.guard('close', () => handlers.close(code, reason.toString('utf8')));
      }
      resolveClosed();
    });
    this.pingTimer = setInterval(() => this.ping(), pingIntervalMs);
    this.pingTimer.unref();
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /**
   * Sends a message (encoded and validated) or an already-encoded frame; false when not open. A
   * message that cannot be encoded (a bug, or a bad token from disk) never throws: it is reported
   * as an error and the connection is closed with 1011, so the daemon reconnects with backoff.
   */
  send(message: AgentMessage | Uint8Array): boolean {
    if (!this.isOpen) return false;
    let frame: Uint8Array;
    try {
      frame = message instanceof Uint8Array ? message : encodeMessage(message);
    } catch (error) {
      const type = message instanceof Uint8Array ? 'frame' : message.type;
      this.handlers.error(new Error(`cannot encode ${type}: ${(error as Error).message}`, { cause: error }));
      this.close(1011, `agent cannot encode ${type}`);
      return false;
    }
    this.socket.send(frame, { binary: true });
    return true;
  }

  /** Runs a handler so that whatever it throws costs this connection (closed 1011), never the process. */
  private guard(what: string, run: () => void): void {
    try {
      run();
    } catch (error) {
      if (what !== 'error') {
        try {
          this.handlers.error(new Error(`${what} handler failed: ${(error as Error)?.message ?? String(error)}`));
        } catch {
          // The error handler itself failed: nothing more to report to.
        }
      }
      if (what !== 'close') this.close(1011, 'agent error');
    }
  }

  /** Starts the closing handshake (or aborts a connection still being opened). */
  close(code = 1000, reason = ''): void {
    if (this.socket.readyState === WebSocket.CLOSED || this.socket.readyState === WebSocket.CLOSING) return;
    if (this.socket.readyState === WebSocket.CONNECTING) {
      this.socket.terminate();
      return;
    }
    this.socket.close(code, truncateReason(reason));
  }

  /** Closes and waits up to `timeoutMs` for the handshake, then drops the TCP connection. */
  async closeAndWait(code = 1000, reason = '', timeoutMs = 2_000): Promise<void> {
    this.close(code, reason);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const outcome = await Promise.race([this.closed, timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.socket.terminate();
      await this.closed;
    }
  }

  private ping(): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    if (!this.alive) {
      this.handlers.error(new Error('the aggregator stopped answering pings'));
      this.socket.terminate();
      return;
    }
    this.alive = false;
    this.socket.ping();
  }

  private onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    this.alive = true;
    let message: ServerMessage;
    try {
      if (!isBinary) throw new ProtocolError('MALFORMED', 'text frame: the agent channel carries binary frames only');
      const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      message = decodeServerMessage(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    } catch (error) {
      const protocolError =
        error instanceof ProtocolError ? error : new ProtocolError('MALFORMED', String(error), { cause: error });
      this.handlers.error(protocolError);
      this.close(protocolError.closeCode, protocolError.message);
      return;
    }
    this.guard('message', () => this.handlers.message(message));
  }
}

/** A close reason fits in 123 bytes of UTF-8; cut on a character boundary. */
export function truncateReason(reason: string, maxBytes = 123): string {
  let out = reason;
  while (Buffer.byteLength(out, 'utf8') > maxBytes) out = out.slice(0, -1);
  return out;
}

/** `welcome.heartbeatSeconds` is clamped into this range: a hostile 1e10 would overflow the timer into 1 ms. */
export const MIN_HEARTBEAT_SECONDS = 5;
export const MAX_HEARTBEAT_SECONDS = 3600;

export function clampHeartbeatSeconds(seconds: number): number {
  if (!Number.isFinite(seconds)) return MAX_HEARTBEAT_SECONDS;
  return Math.min(MAX_HEARTBEAT_SECONDS, Math.max(MIN_HEARTBEAT_SECONDS, seconds));
}

/**
 * A close by which the aggregator rejected a report as invalid: a schema violation on a report
 * (4002, reason `report: ...`), or a frame over its limit (4003, 1009) while reports were in
 * flight. Replaying the same report would be rejected again, forever.
 */
export function isReportRejection(code: number, reason: string): boolean {
  if (code === 4002) return reason.startsWith('report');
  return code === 4003 || code === 1009;
}
