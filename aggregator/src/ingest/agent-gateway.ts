/**
 * The agent channel on the HTTP server: a `ws` WebSocketServer in noServer mode takes the upgrades
 * for `/api/v1/agent` on the same port as the API, keeps one live session per host, and sweeps
 * sockets with pings so dead connections (no FIN, e.g. a host that lost power) are noticed.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { MAX_FRAME_BYTES } from '@envparity/shared';
import type { Logger } from 'pino';
import { type WebSocket, WebSocketServer } from 'ws';
import type { AggregatorMetrics } from '../metrics/aggregator-metrics.js';
import type { FactStore } from '../store/fact-store.js';
import { hashToken } from '../token-hash.js';
import { AgentSession, CLOSE_GRACE_MS, DEFAULT_HELLO_TIMEOUT_MS, type SessionContext } from './agent-session.js';
import { EnrollmentGuard, type EnrollmentGuardOptions } from './enrollment-guard.js';
import type { EnrollmentPolicy } from './enrollment-policy.js';

/** The WebSocket path agents connect to. */
export const AGENT_PATH = '/api/v1/agent';

export interface AgentGatewayOptions {
  store: FactStore;
  metrics: AggregatorMetrics;
  logger: Logger;
  /** Clear enroll secret (hashed at once, never kept); undefined disables enrollment. */
  enrollSecret?: string | undefined;
  /** HMAC key for secret values, handed to agents at enrollment. */
  fleetKey: string;
  heartbeatSeconds: number;
  rateLimit: { perSecond: number; burst: number };
  maxFrameBytes?: number;
  helloTimeoutMs?: number;
  /** Enrollment lockout and storm limit (DEFAULT_ENROLL_* in enrollment-guard.ts). */
  enrollment?: EnrollmentGuardOptions;
  /** Approval mode and the pending / environment caps (open mode, DEFAULT_* caps when absent). */
  enrollmentPolicy?: EnrollmentPolicy;
  /** Agent clocks this far from the server's are clamped and flagged (default 1 day). */
  maxClockSkewMs?: number;
  /** Registers the probe classes a hello declares, before the host's reports (classes/class-registry.ts). */
  declareClasses?: SessionContext['declareClasses'];
  now?: () => number;
}

function rejectUpgrade(socket: Duplex, status: number, text: string): void {
  if (socket.destroyed) return;
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export class AgentGateway {
  readonly wss: WebSocketServer;
  private readonly sessions = new Set<AgentSession>();
  private readonly byHost = new Map<string, AgentSession>();
  private readonly presenceListeners = new Set<(hostId: string, online: boolean) => void>();
  private readonly context: SessionContext;
  private readonly logger: Logger;
  private sweepTimer: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(options: AgentGatewayOptions) {
    const maxFrameBytes = options.maxFrameBytes ?? MAX_FRAME_BYTES;
    this.logger = options.logger;
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: maxFrameBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.context = {
      store: options.store,
      metrics: options.metrics,
      logger: options.logger,
      enrollSecretHash: options.enrollSecret === undefined ? undefined : hashToken(options.enrollSecret),
      fleetKey: options.fleetKey,
      heartbeatSeconds: options.heartbeatSeconds,
      maxFrameBytes,
      rateLimit: options.rateLimit,
      helloTimeoutMs: options.helloTimeoutMs ?? DEFAULT_HELLO_TIMEOUT_MS,
      now: options.now ?? Date.now,
      enrollmentGuard: new EnrollmentGuard({ ...options.enrollment, now: options.now ?? Date.now }),
      ...(options.enrollmentPolicy ? { enrollmentPolicy: options.enrollmentPolicy } : {}),
      ...(options.maxClockSkewMs !== undefined ? { maxClockSkewMs: options.maxClockSkewMs } : {}),
      ...(options.declareClasses ? { declareClasses: options.declareClasses } : {}),
      bind: (session) => this.bind(session),
      unbind: (session) => this.unbind(session),
      reenrolled: (hostId, session) => this.evictRevoked(hostId, session),
    };
  }

  /** Takes the agent path's upgrades on `server` and starts the heartbeat sweep. */
  attach(server: Server): void {
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.handleUpgrade(request, socket, head),
    );
    const intervalMs = this.context.heartbeatSeconds * 1000;
    this.sweepTimer = setInterval(() => this.sweep(), intervalMs);
    this.sweepTimer.unref();
  }

  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {}); // a reset before the handshake completes must not crash anything
    let pathname: string;
    try {
      pathname = new URL(request.url ?? '/', 'http://localhost').pathname;
    } catch {
      rejectUpgrade(socket, 400, 'Bad Request');
      return;
    }
    if (pathname !== AGENT_PATH) {
      rejectUpgrade(socket, 404, 'Not Found');
      return;
    }
    if (this.closing) {
      rejectUpgrade(socket, 503, 'Service Unavailable');
      return;
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, request));
  }

  private accept(ws: WebSocket, request: IncomingMessage): void {
    const remote = `${request.socket.remoteAddress ?? '?'}:${request.socket.remotePort ?? '?'}`;
    const session = new AgentSession(ws, remote, this.context);
    this.sessions.add(session);
    ws.on('close', () => this.sessions.delete(session));
    if (this.closing) session.shutdown();
  }

  private bind(session: AgentSession): void {
    const hostId = session.hostId as string;
    const previous = this.byHost.get(hostId);
    if (previous && previous !== session) {
      this.logger.info({ hostId }, 'newer connection of the host: replacing the old one');
      previous.close('replaced', 'replaced by a newer connection of this host');
    }
    this.byHost.set(hostId, session);
    if (!previous) this.notifyPresence(hostId, true);
  }

  /**
   * The host was retired: its live socket (if any) is closed with 4013 at once, before it sends
   * another report. Call after `store.retireHost()`.
   */
  disconnectRetired(hostId: string): void {
    const at = this.context.store.getHost(hostId)?.retiredAt ?? this.context.now();
    for (const session of this.sessions) {
      if (session.hostId === hostId) session.closeRetired(hostId, at);
    }
  }

  /**
   * An admin rotated the host's token: its live socket is closed with 4015 so the agent says hello
   * again at once and gets the new token. False when the host is not connected.
   */
  disconnectForRotation(hostId: string): boolean {
    const live = this.byHost.get(hostId);
    if (!live) return false;
    live.close('tokenRotation', 'token rotation: reconnect, the next welcome carries the new token');
    return true;
  }

  /** An approved re-enrollment revoked the host's old token: a socket still using it must go. */
  disconnectRevoked(hostId: string): void {
    this.byHost.get(hostId)?.close('unauthorized', 'unauthorized: token revoked, the host re-enrolled');
  }

  private evictRevoked(hostId: string, by: AgentSession): void {
    const live = this.byHost.get(hostId);
    if (live && live !== by) live.close('unauthorized', 'unauthorized: token revoked, the host re-enrolled');
  }

  private unbind(session: AgentSession): void {
    if (session.hostId !== undefined && this.byHost.get(session.hostId) === session) {
      this.byHost.delete(session.hostId);
      this.notifyPresence(session.hostId, false);
    }
  }

  /**
   * Subscribes to hosts going online (first live socket) and offline (last one gone): baselines
   * are computed from live hosts, so the drift engine re-evaluates on these.
   */
  onPresenceChange(listener: (hostId: string, online: boolean) => void): () => void {
    this.presenceListeners.add(listener);
    return () => {
      this.presenceListeners.delete(listener);
    };
  }

  private notifyPresence(hostId: string, online: boolean): void {
    for (const listener of this.presenceListeners) {
      try {
        listener(hostId, online);
      } catch (error) {
        this.logger.error({ err: { message: (error as Error)?.message }, hostId }, 'presence listener failed');
      }
    }
  }

  /** Pings every socket; terminates those that did not answer the previous ping. */
  sweep(): void {
    for (const session of this.sessions) session.sweep();
  }

  /** True while the host has a live, authenticated socket. */
  isOnline(hostId: string): boolean {
    return this.byHost.has(hostId);
  }

  /** Hosts with a live, authenticated socket. */
  onlineHosts(): Iterable<string> {
    return [...this.byHost.keys()];
  }

  /** Agents with a live, authenticated socket. */
  connectedCount(): number {
    return this.byHost.size;
  }

  /** Asks a connected agent to collect now; false when it is not connected. */
  requestCollect(hostId: string, categories?: string[]): boolean {
    const session = this.byHost.get(hostId);
    if (!session || session.isClosing) return false;
    session.send(categories ? { type: 'collect', categories } : { type: 'collect' });
    return true;
  }

  /** Closes every socket with 1001 and waits (briefly) until they are gone. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    const open = [...this.sessions];
    const closed = open.map(
      (session) =>
        new Promise<void>((resolve) => {
          if (session.ws.readyState === session.ws.CLOSED) resolve();
          else session.ws.once('close', () => resolve());
        }),
    );
    for (const session of open) session.shutdown();
    await Promise.race([
      Promise.all(closed),
      new Promise((resolve) => setTimeout(resolve, CLOSE_GRACE_MS + 100).unref()),
    ]);
    for (const session of this.sessions) session.ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
