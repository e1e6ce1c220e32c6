/**
 * One agent WebSocket: the protocol state machine of docs/PROTOCOL.md (enroll -> hello -> reports and
 * heartbeats). Every bad frame closes only this socket, with its close code and a short reason, and
 * is counted; nothing a frame contains can reach the store before it has been fully validated.
 *
 * Messages are handled strictly in arrival order (a promise chain), but a report does not hold the
 * chain until it is committed: reports of one socket are pipelined and acknowledged in order.
 */
import {
  type AgentMessage,
  boundReportTime,
  CLOSE_CODES,
  type CloseCodeName,
  type DeclaredClassRule,
  decodeAgentMessage,
  type EnrollMessage,
  encodeMessage,
  findReportPathProblem,
  type HelloMessage,
  ProtocolError,
  type ReportMessage,
  type ServerMessage,
} from '@envparity/shared';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import type { AggregatorMetrics } from '../metrics/aggregator-metrics.js';
import { REJECTED_FRAME_TYPE } from '../metrics/aggregator-metrics.js';
import { addressOfRemote, ENROLL_SECRET_ACTOR } from '../store/audit-log.js';
import { type FactStore, PRESENCE_RETIRED_BY } from '../store/fact-store.js';
import { generateToken, hashToken, tokenMatches } from '../token-hash.js';
import { categoriesNeeded } from './categories-needed.js';
import {
  HOST_RETIRED_CLOSE_CODE,
  HOST_RETIRED_REASON,
  REJECT_REASON_BY_CODE,
  truncateCloseReason,
} from './close-reason.js';
import type { EnrollmentGuard } from './enrollment-guard.js';
import {
  DEFAULT_ENROLLMENT_POLICY,
  type EnrollmentPolicy,
  environmentCapProblem,
  PENDING_FULL_RETRY_SECONDS,
} from './enrollment-policy.js';
import { TokenBucket } from './token-bucket.js';

/** After sending a close frame, how long the peer has to answer before the socket is destroyed. */
export const CLOSE_GRACE_MS = 2000;
/** A socket must authenticate (hello) within this time, so idle anonymous sockets cannot pile up. */
export const DEFAULT_HELLO_TIMEOUT_MS = 30_000;
/**
 * Reports of one socket waiting for their commit before the socket stops being read (TCP
 * backpressure): bounds the memory one agent can pin with large frames, whatever the rate limit.
 */
export const MAX_INFLIGHT_REPORTS = 32;

/** What a session needs from the aggregator around it. */
export interface SessionContext {
  readonly store: FactStore;
  readonly metrics: AggregatorMetrics;
  readonly logger: Logger;
  /** sha256 of the enroll secret; undefined disables enrollment (every enroll gets 4011). */
  readonly enrollSecretHash: string | undefined;
  readonly fleetKey: string;
  readonly heartbeatSeconds: number;
  readonly maxFrameBytes: number;
  readonly rateLimit: { readonly perSecond: number; readonly burst: number };
  readonly helloTimeoutMs: number;
  /** Agent clocks this far from the server's are clamped and flagged `meta.clockSkewMs` (default 1 day). */
  readonly maxClockSkewMs?: number;
  /** Per-address lockout of wrong secrets and the fleet-wide enrollment rate (enrollment-guard.ts). */
  readonly enrollmentGuard?: EnrollmentGuard;
  /** Approval mode and the pending / environment caps (enrollment-policy.ts); open mode by default. */
  readonly enrollmentPolicy?: EnrollmentPolicy;
  now(): number;
  /** Makes `session` the live connection of its host (closing an older one with 4040). */
  bind(session: AgentSession): void;
  /** Forgets `session` (it closed). */
  unbind(session: AgentSession): void;
  /** The host re-enrolled through `session`: a live socket still using the revoked token must go. */
  reenrolled(hostId: string, session: AgentSession): void;
  /**
   * Registers the probe classes a hello declares (classes/class-registry.ts), before the welcome,
   * so they classify every report of the host; absent, declarations are ignored.
   */
  readonly declareClasses?: (hostId: string, rules: readonly DeclaredClassRule[]) => void;
}

export type SessionState = 'new' | 'enrolled' | 'ready';

function toBuffer(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

export class AgentSession {
  state: SessionState = 'new';
  /** Set by enroll or hello; the host this socket speaks for. */
  hostId: string | undefined;
  /** False once a ping went out unanswered: the next sweep terminates the socket. */
  alive = true;
  private closing = false;
  private lastReportSeq: number | undefined;
  private chain: Promise<void> = Promise.resolve();
  private readonly bucket: TokenBucket;
  private helloTimer: NodeJS.Timeout | undefined;
  private inflight = 0;

  constructor(
    readonly ws: WebSocket,
    /** Remote address, for logs. */
    readonly remote: string,
    private readonly ctx: SessionContext,
  ) {
    this.bucket = new TokenBucket(ctx.rateLimit.perSecond, ctx.rateLimit.burst);
    this.helloTimer = setTimeout(
      () => this.close('unexpectedMessage', `no hello within ${Math.round(ctx.helloTimeoutMs / 1000)} s`),
      ctx.helloTimeoutMs,
    );
    this.helloTimer.unref();
    ws.on('message', (data, isBinary) => {
      // A bug in handling one frame must cost this socket, never the process.
      try {
        this.onFrame(data, isBinary);
      } catch (error) {
        this.fail(error);
      }
    });
    ws.on('pong', () => {
      this.alive = true;
    });
    ws.on('error', (error) => this.onSocketError(error));
    ws.on('close', (code) => this.onClosed(code));
  }

  get isClosing(): boolean {
    return this.closing;
  }

  private get log(): Logger {
    return this.ctx.logger;
  }

  // --- frames ----------------------------------------------------------------------------------

  private onFrame(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.closing) return;
    this.alive = true;
    const bytes = toBuffer(data);
    const receivedAt = this.ctx.now();
    const receivedMono = performance.now();
    const { metrics } = this.ctx;
    if (!this.bucket.take(receivedMono)) {
      this.countRejectedFrame(bytes.length);
      this.close(
        'rateLimited',
        `rate limited: over ${this.ctx.rateLimit.perSecond} messages/s (burst ${this.ctx.rateLimit.burst})`,
      );
      return;
    }
    if (!isBinary) {
      this.countRejectedFrame(bytes.length);
      this.close('malformed', 'text frame: messages are binary msgpack frames');
      return;
    }
    let message: AgentMessage;
    try {
      message = decodeAgentMessage(bytes, this.ctx.maxFrameBytes);
    } catch (error) {
      this.countRejectedFrame(bytes.length);
      if (error instanceof ProtocolError) this.closeWith(error.closeCode, error.message);
      else this.fail(error);
      return;
    }
    metrics.messages.inc({ type: message.type });
    metrics.bytes.inc({ type: message.type }, bytes.length);
    // Checks that need no state happen now, in frame order, before anything queued runs.
    if (message.type === 'report' && !this.acceptReportFrame(message)) return;
    this.chain = this.chain
      .then(() => (this.closing ? undefined : this.handle(message, receivedAt, receivedMono)))
      .catch((error: unknown) => this.fail(error));
  }

  private countRejectedFrame(size: number): void {
    this.ctx.metrics.messages.inc({ type: REJECTED_FRAME_TYPE });
    this.ctx.metrics.bytes.inc({ type: REJECTED_FRAME_TYPE }, size);
  }

  /** Per-socket seq order and path validity of a report; false (and closed) when it fails. */
  private acceptReportFrame(report: ReportMessage): boolean {
    if (this.lastReportSeq !== undefined && report.seq <= this.lastReportSeq) {
      this.close('outOfOrder', `out of order: report seq ${report.seq} after ${this.lastReportSeq}`);
      return false;
    }
    const problem = findReportPathProblem(report);
    if (problem) {
      this.close('schemaViolation', `report: ${problem}`);
      return false;
    }
    this.lastReportSeq = report.seq;
    return true;
  }

  private async handle(message: AgentMessage, receivedAt: number, receivedMono: number): Promise<void> {
    switch (message.type) {
      case 'enroll':
        return this.onEnroll(message, receivedAt);
      case 'hello':
        return this.onHello(message, receivedAt);
      case 'report':
        return this.onReport(message, receivedAt, receivedMono);
      case 'heartbeat':
        return this.onHeartbeat(receivedAt);
    }
  }

  // --- messages --------------------------------------------------------------------------------

  private async onEnroll(message: EnrollMessage, at: number): Promise<void> {
    if (this.state !== 'new') {
      this.close(
        'unexpectedMessage',
        `unexpected enroll: this socket already did ${this.state === 'ready' ? 'hello' : 'enroll'}`,
      );
      return;
    }
    const guard = this.ctx.enrollmentGuard;
    const address = addressOfRemote(this.remote) ?? this.remote;
    const locked = guard?.checkAddress(address);
    if (locked && !locked.ok) {
      this.close(
        'rateLimited',
        `retry after ${locked.retryAfterSeconds} s: too many failed enrollments from this address`,
      );
      return;
    }
    const secretHash = this.ctx.enrollSecretHash;
    if (secretHash === undefined || !tokenMatches(message.enrollSecret, secretHash)) {
      const lockedOut = guard?.recordFailure(address) ?? false;
      this.log.warn({ hostId: message.hostId, remote: this.remote, lockedOut }, 'enroll refused: wrong enroll secret');
      this.close('enrollRefused', 'enroll refused');
      return;
    }
    const admitted = guard?.admit();
    if (admitted && !admitted.ok) {
      this.close('rateLimited', `retry after ${admitted.retryAfterSeconds} s: enrollment storm, fleet-wide limit`);
      return;
    }
    if (!(await this.comeBackOrRefuse(message.hostId, 'enroll'))) return;
    const policy = this.ctx.enrollmentPolicy ?? DEFAULT_ENROLLMENT_POLICY;
    if (this.refuseNewEnvironment(message.environment, policy)) return;
    if (policy.mode === 'approve') return this.holdForApproval(message, at, policy);
    const token = generateToken();
    const { reenrolled } = await this.ctx.store.enrollHost({
      hostId: message.hostId,
      tokenHash: hashToken(token),
      environment: message.environment ?? null,
      labels: message.labels,
      agentVersion: message.agentVersion,
      at,
      source: addressOfRemote(this.remote),
    });
    this.log.info(
      { hostId: message.hostId, environment: message.environment, reenrolled, remote: this.remote },
      'agent enrolled',
    );
    if (reenrolled) this.ctx.reenrolled(message.hostId, this);
    await this.ctx.store.admission.finishRotation(message.hostId);
    if (this.closing) return;
    this.state = 'enrolled';
    this.hostId = message.hostId;
    this.send({ type: 'enrolled', hostId: message.hostId, token, fleetKey: this.ctx.fleetKey });
  }

  /**
   * Approval mode: the agent gets a token that authenticates only once an admin approves the host;
   * until then its hello is answered with 4014. A known host re-enrolling waits too, and keeps its
   * current token meanwhile (the enroll secret alone can neither join nor take over a host).
   */
  private async holdForApproval(message: EnrollMessage, at: number, policy: EnrollmentPolicy): Promise<void> {
    const { admission } = this.ctx.store;
    if (admission.getPending(message.hostId) === undefined && admission.pendingCount() >= policy.maxPending) {
      this.log.warn({ hostId: message.hostId, remote: this.remote }, 'enroll refused: too many hosts await approval');
      this.close(
        'rateLimited',
        `retry after ${PENDING_FULL_RETRY_SECONDS} s: ${policy.maxPending} hosts await approval (enrollment.maxPending)`,
      );
      return;
    }
    const token = generateToken();
    const source = addressOfRemote(this.remote);
    await admission.putPending({
      hostId: message.hostId,
      tokenHash: hashToken(token),
      environment: message.environment ?? null,
      labels: message.labels,
      agentVersion: message.agentVersion,
      requestedAt: at,
      source,
    });
    await this.ctx.store.audit.append({
      at,
      actor: ENROLL_SECRET_ACTOR,
      action: 'host.approval-requested',
      source,
      details: { hostId: message.hostId, environment: message.environment ?? null, agentVersion: message.agentVersion },
    });
    this.log.info(
      { hostId: message.hostId, environment: message.environment, remote: this.remote },
      'agent enrolled: awaiting approval',
    );
    if (this.closing) return;
    this.state = 'enrolled';
    this.hostId = message.hostId;
    this.send({ type: 'enrolled', hostId: message.hostId, token, pending: true });
  }

  /** Closes with 4011 when `environment` would be one environment too many; true when it did. */
  private refuseNewEnvironment(environment: string | undefined, policy: EnrollmentPolicy): boolean {
    const problem = environmentCapProblem(environment, this.ctx.store.listEnvironments(), policy.maxEnvironments);
    if (!problem) return false;
    this.log.warn({ environment, remote: this.remote }, 'refused: environment limit reached');
    this.close('enrollRefused', `enroll refused: ${problem}`);
    return true;
  }

  private async onHello(message: HelloMessage, at: number): Promise<void> {
    if (this.state === 'ready') {
      this.close('unexpectedMessage', 'unexpected hello: this socket already did hello');
      return;
    }
    const { store } = this.ctx;
    const tokenHash = hashToken(message.token);
    // Its last report, token or retirement may have been written by another aggregator on the same database.
    store.syncHost?.(message.hostId);
    const owner = store.findHostByTokenHash(tokenHash) ?? store.admission.hostOfPreviousToken(tokenHash);
    if (owner === undefined) {
      const pending = store.admission.findPendingByTokenHash(tokenHash);
      if (pending && pending.hostId === message.hostId) {
        this.log.info({ hostId: message.hostId, remote: this.remote }, 'hello: the host awaits approval');
        this.close(
          'pendingApproval',
          `retry after ${(this.ctx.enrollmentPolicy ?? DEFAULT_ENROLLMENT_POLICY).pendingRetrySeconds} s: awaiting approval (POST /api/v1/hosts/${message.hostId}/approve)`,
        );
        return;
      }
      this.log.warn({ hostId: message.hostId, remote: this.remote }, 'hello refused: unknown or revoked token');
      this.close('unauthorized', 'unauthorized: unknown or revoked token');
      return;
    }
    if (owner !== message.hostId || (this.hostId !== undefined && this.hostId !== owner)) {
      this.log.warn({ hostId: message.hostId, remote: this.remote }, 'hello refused: token of another host');
      this.close('hostMismatch', 'host mismatch: the token belongs to another host id');
      return;
    }
    const current = store.getHost(owner);
    if (current && message.environment !== undefined && message.environment !== current.environment) {
      if (this.refuseNewEnvironment(message.environment, this.ctx.enrollmentPolicy ?? DEFAULT_ENROLLMENT_POLICY))
        return;
    }
    if (!(await this.comeBackOrRefuse(owner, 'hello'))) return;
    if (message.classes && message.classes.length > 0) this.ctx.declareClasses?.(owner, message.classes);
    await store.updateHostInfo(owner, {
      environment: message.environment ?? null,
      labels: message.labels,
      agentVersion: message.agentVersion,
    });
    const rotatedToken = await this.rotateTokenAtHello(owner, tokenHash);
    if (this.closing) return;
    clearTimeout(this.helloTimer);
    this.hostId = owner;
    this.state = 'ready';
    this.ctx.bind(this);
    store.touchHost(owner, at);
    const host = store.getHost(owner);
    const need = host ? categoriesNeeded(host.categories, message.fingerprints) : [];
    this.log.info(
      {
        hostId: owner,
        environment: message.environment,
        agentVersion: message.agentVersion,
        lastAckedSeq: message.lastAckedSeq,
        lastSeq: host?.lastSeq ?? 0,
        need,
        remote: this.remote,
      },
      'agent connected',
    );
    this.send({
      type: 'welcome',
      lastSeq: host?.lastSeq ?? 0,
      need,
      heartbeatSeconds: this.ctx.heartbeatSeconds,
      // Always: an agent approved after a pending enrollment has none yet, and a stale one is replaced.
      fleetKey: this.ctx.fleetKey,
      ...(rotatedToken ? { token: rotatedToken } : {}),
    });
  }

  /**
   * A token rotation an admin asked for: a hello with the current token (or, when the agent did not
   * keep the last new one, with the previous token) gets a new token in `welcome`; a hello with
   * the new token ends the rotation, and the previous token stops authenticating.
   */
  private async rotateTokenAtHello(hostId: string, tokenHash: string): Promise<string | undefined> {
    const { store } = this.ctx;
    const rotation = store.admission.rotationOf(hostId);
    if (!rotation) return undefined;
    const usedPrevious = rotation.previousTokenHash === tokenHash;
    if (rotation.previousTokenHash !== null && !usedPrevious) {
      await store.admission.finishRotation(hostId);
      this.log.info({ hostId, remote: this.remote }, 'agent token rotated: the previous token is revoked');
      return undefined;
    }
    const token = generateToken();
    await store.replaceHostToken(hostId, hashToken(token));
    if (!usedPrevious) await store.admission.markRotationIssued(hostId, tokenHash);
    this.log.info({ hostId, remote: this.remote }, 'agent token rotation: new token sent in welcome');
    return token;
  }

  private async onReport(report: ReportMessage, receivedAt: number, receivedMono: number): Promise<void> {
    if (this.state !== 'ready' || this.hostId === undefined) {
      this.close('unexpectedMessage', 'unexpected report before hello');
      return;
    }
    const hostId = this.hostId;
    if (++this.inflight === MAX_INFLIGHT_REPORTS) this.ws.pause();
    // Not awaited: the chain moves on, acks go out in commit order as the batches land.
    this.ctx.store
      .ingestReport({
        hostId,
        // A far-future or ancient observedAt is clamped into server time ± the skew, and flagged on the host.
        report: boundReportTime(report, receivedAt, this.ctx.maxClockSkewMs, this.ctx.store.getHost(hostId)?.meta),
        receivedAt,
        // acceptReportFrame() checked every path of this frame.
        pathsChecked: true,
      })
      .finally(() => {
        if (this.inflight-- === MAX_INFLIGHT_REPORTS) this.ws.resume();
      })
      .then((result) => {
        this.ctx.metrics.ingestLatency.observe((performance.now() - receivedMono) / 1000);
        this.log.debug(
          { hostId, seq: result.seq, applied: result.applied, changes: result.changes, resync: result.resync },
          'report stored',
        );
        this.send({ type: 'ack', seq: result.seq });
        if (result.resync.length > 0) {
          this.log.info(
            { hostId, seq: result.seq, categories: result.resync },
            'fingerprint mismatch: asking for resync',
          );
          this.send({
            type: 'resync',
            reason: 'fingerprint mismatch: the stored category differs from the agent fingerprint',
            categories: result.resync,
          });
        }
      })
      .catch((error: unknown) => {
        // A report the store refuses as invalid (past the per-host path cap): 4002, so the agent
        // quarantines it and starts over with a full report instead of replaying it forever.
        if ((error as { code?: unknown })?.code === 'REPORT_REJECTED') {
          this.log.warn({ hostId, seq: report.seq, reason: (error as Error).message }, 'report rejected');
          this.close('schemaViolation', (error as Error).message);
        } else this.fail(error);
      });
  }

  private async onHeartbeat(at: number): Promise<void> {
    if (this.state !== 'ready' || this.hostId === undefined) {
      this.close('unexpectedMessage', 'unexpected heartbeat before hello');
      return;
    }
    this.ctx.store.touchHost(this.hostId, at);
  }

  // --- sending and closing ---------------------------------------------------------------------

  /** Sends a message if the socket is still open (acks of a replaced socket are simply dropped). */
  send(message: ServerMessage): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(encodeMessage(message), { binary: true });
  }

  /** Closes with a named code from CLOSE_CODES, counting the reason in metrics. */
  close(name: CloseCodeName, reason: string): void {
    this.closeWith(CLOSE_CODES[name], reason);
  }

  /**
   * A retired host: one retired by `presence.retireAfter` (switched off for a long time) comes
   * back; one an admin retired (`DELETE /api/v1/hosts/:id`) is refused with 4013. True: go on.
   */
  private async comeBackOrRefuse(hostId: string, step: 'enroll' | 'hello'): Promise<boolean> {
    const host = this.ctx.store.getHost(hostId);
    if (!host || host.retiredAt === null) return true;
    if (host.retiredBy === PRESENCE_RETIRED_BY && (await this.ctx.store.unretireHost(hostId))) {
      this.log.info({ hostId, remote: this.remote }, 'a host retired for lack of contact is back');
      return !this.closing;
    }
    this.log.warn({ hostId, remote: this.remote }, `${step} refused: the host is retired`);
    this.closeRetired(hostId, host.retiredAt);
    return false;
  }

  /** Closes with 4013: the host was retired, so neither its token nor its id is accepted any more. */
  closeRetired(hostId: string, at: number): void {
    this.closeWith(
      HOST_RETIRED_CLOSE_CODE,
      `${HOST_RETIRED_REASON}: ${hostId} was removed on ${new Date(at).toISOString()}; enroll under a new host id`,
    );
  }

  closeWith(code: number, reason: string): void {
    if (this.closing) return;
    this.closing = true;
    const label = REJECT_REASON_BY_CODE[code];
    if (label) this.ctx.metrics.rejected.inc({ reason: label });
    const text = truncateCloseReason(reason);
    this.log.info({ hostId: this.hostId, remote: this.remote, code, reason: text }, 'closing agent socket');
    this.ws.close(code, text);
    setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS).unref();
  }

  /** Closes on a server-side failure (the store could not commit): the agent reconnects and replays. */
  private fail(error: unknown): void {
    if (this.closing) return;
    this.log.error(
      {
        hostId: this.hostId,
        err: {
          name: (error as Error)?.name,
          code: (error as { code?: unknown })?.code,
          message: (error as Error)?.message,
        },
      },
      'agent message failed',
    );
    this.close('internalError', 'internal error: the report was not stored, reconnect and replay');
  }

  /** Heartbeat sweep: terminates a socket that did not answer the previous ping, else pings it. */
  sweep(): void {
    if (this.closing) return;
    if (!this.alive) {
      this.closing = true;
      this.ctx.metrics.rejected.inc({ reason: 'heartbeat_timeout' });
      this.log.info({ hostId: this.hostId, remote: this.remote }, 'agent missed a heartbeat: terminating');
      this.ws.terminate();
      return;
    }
    this.alive = false;
    this.ws.ping();
  }

  /** Closes for shutdown (1001); not counted as a rejection. */
  shutdown(): void {
    if (this.closing) return;
    this.closing = true;
    this.ws.close(CLOSE_CODES.goingAway, 'aggregator shutting down');
    setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS).unref();
  }

  private onSocketError(error: Error & { code?: string }): void {
    if (this.closing) return;
    // `ws` reports protocol errors (frame over maxPayload, bad opcode...) here and closes by itself.
    this.closing = true;
    const reason = error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'too_big' : 'ws_error';
    if (reason === 'too_big') this.countRejectedFrame(0);
    this.ctx.metrics.rejected.inc({ reason });
    this.log.info(
      { hostId: this.hostId, remote: this.remote, code: error.code, reason: error.message },
      'agent socket error',
    );
  }

  private onClosed(code: number): void {
    this.closing = true;
    clearTimeout(this.helloTimer);
    this.ctx.unbind(this);
    if (this.hostId !== undefined && this.state === 'ready') this.ctx.store.touchHost(this.hostId, this.ctx.now());
    const fields = { hostId: this.hostId, remote: this.remote, code };
    if (this.state === 'ready') this.log.info(fields, 'agent disconnected');
    else this.log.debug(fields, 'agent socket closed');
  }
}
