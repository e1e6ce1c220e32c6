/**
 * The connection lifecycle: one connection at a time to the aggregator. It connects, enrolls or
 * says hello, takes the credentials a welcome carries (an approval, a new fleet key, a rotated
 * token), hands acks and requests to its owner, and after a close decides what follows from the
 * close code: reconnect with backoff (reset after a stable connection or a token rotation),
 * re-enroll, or stop for good (host retired). With several aggregator URLs it fails over between
 * them (aggregator-rotation.ts): the next URL after every close, the backoff once per round.
 * What to report and when is not its business.
 */
import {
  type AgentConfig,
  CLOSE_CODES,
  type EnrollMessage,
  PROTOCOL_VERSION,
  probeClassRules,
  type ServerMessage,
} from '@envparity/shared';
import type { Logger } from 'pino';
import { AGENT_VERSION } from '../version.js';
import { AggregatorRotation } from './aggregator-rotation.js';
import { redactUrl } from './aggregator-url.js';
import type { BackoffOptions } from './backoff.js';
import { describeClose } from './close-log.js';
import { Connection, clampHeartbeatSeconds, isReportRejection } from './connection.js';
import { type Credentials, saveCredentials } from './credentials.js';
import { errorMessage } from './error-message.js';
import type { Outbox } from './outbox.js';
import { type ClientTlsOptions, describeTlsFailure } from './tls-options.js';

/** A connection that reached `welcome` and stayed up this long resets the backoff. */
export const DEFAULT_STABLE_CONNECTION_MS = 10_000;

export type SessionPhase = 'idle' | 'connecting' | 'enrolling' | 'hello' | 'ready';

/** What the session tells its owner. */
export interface SessionEvents {
  /** Welcomed: the connection carries reports from now on. `need`: categories the aggregator wants whole. */
  ready(connection: Connection, welcome: { need: readonly string[]; heartbeatSeconds: number }): Promise<void>;
  ack(seq: number): void;
  /** The connection closed (ready or not): nothing more goes out on it. */
  disconnected(): void;
  /** A new fleet key (enrolled, approved, or changed): facts collected before hash secrets with a stale key. */
  fleetKeyChanged(): void;
  collectRequested(categories: readonly string[] | undefined): void;
  resyncRequested(reason: string, categories: readonly string[] | undefined): void;
  /** The aggregator closed the connection over an invalid report while reports were spooled. */
  reportsRejected(code: number, reason: string): void;
  /** Close 4013: the host was retired; the session does not reconnect. */
  retired(reason: string): void;
}

/** One aggregator the agent may connect to: its agent channel URL and the TLS options for it. */
export interface AggregatorEndpoint {
  url: string;
  /** Pinned CA and/or server certificate fingerprint for wss:// (tls-options.ts). */
  tls?: ClientTlsOptions;
}

export interface AggregatorSessionOptions {
  config: AgentConfig;
  /** In order of preference; at least one. After a close the session moves to the next, wrapping around. */
  endpoints: readonly AggregatorEndpoint[];
  stateDir: string;
  hostId: string;
  enrollSecret: string | undefined;
  credentials: Credentials | undefined;
  outbox: Outbox;
  logger: Logger;
  events: SessionEvents;
  backoff?: BackoffOptions;
  stableMs?: number;
  pingIntervalMs?: number;
  /** With several URLs: how long one must keep rejecting the token before it is believed (aggregator-rotation.ts). */
  tokenRejectionConfirmMs?: number;
}

export class AggregatorSession {
  private readonly options: AggregatorSessionOptions;
  private readonly config: AgentConfig;
  private readonly logger: Logger;
  private readonly outbox: Outbox;
  private readonly events: SessionEvents;
  private readonly rotation: AggregatorRotation;
  private current: Credentials | undefined;
  /**
   * Approval mode: the token of an enrollment an admin has not approved yet. Hello uses it (and is
   * told 4014 until the approval); the first welcome brings the fleet key, and only then is it saved.
   */
  private pendingToken: string | undefined;
  private connection: Connection | undefined;
  private state: SessionPhase = 'idle';
  /** One message at a time, in order, even when handling one awaits the disk. */
  private inbox: Promise<void> = Promise.resolve();
  private welcomedAt: number | undefined;
  private reenroll = false;
  private lastTransportError: string | undefined;
  /** The last transport error was a TLS check (untrusted CA, fingerprint mismatch...): logged as such. */
  private lastTlsFailure: string | undefined;
  private reconnectCount = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(options: AggregatorSessionOptions) {
    this.options = options;
    this.config = options.config;
    this.logger = options.logger;
    this.outbox = options.outbox;
    this.events = options.events;
    this.current = options.credentials;
    this.rotation = new AggregatorRotation(options.endpoints.length, {
      ...(options.backoff ? { backoff: options.backoff } : {}),
      ...(options.tokenRejectionConfirmMs !== undefined
        ? { tokenRejectionConfirmMs: options.tokenRejectionConfirmMs }
        : {}),
    });
  }

  /** The agent channel URL connected to (or to be tried next), unredacted. */
  get url(): string {
    return this.endpoint.url;
  }

  private get endpoint(): AggregatorEndpoint {
    return this.options.endpoints[this.rotation.index] as AggregatorEndpoint;
  }

  get phase(): SessionPhase {
    return this.state;
  }

  /** The saved token and fleet key; undefined until enrolled (and, in approval mode, approved). */
  get credentials(): Credentials | undefined {
    return this.current;
  }

  get reconnects(): number {
    return this.reconnectCount;
  }

  connect(): void {
    if (this.stopping) return;
    this.reconnectTimer = undefined;
    this.lastTransportError = undefined;
    this.lastTlsFailure = undefined;
    this.state = 'connecting';
    this.welcomedAt = undefined;
    const { url, tls } = this.endpoint;
    const connection: Connection = new Connection(
      {
        url,
        ...(this.options.pingIntervalMs !== undefined ? { pingIntervalMs: this.options.pingIntervalMs } : {}),
        ...(tls ? { tls } : {}),
      },
      {
        open: () => this.onOpen(connection),
        message: (message) => {
          this.inbox = this.inbox
            .then(() => this.onMessage(connection, message))
            .catch((error: unknown) => {
              this.logger.error({ err: errorMessage(error), type: message.type }, 'failed to handle a message');
              connection.close(CLOSE_CODES.internalError, 'agent error');
            });
        },
        close: (code, reason) => this.onClose(connection, code, reason),
        error: (error) => {
          // Refused, TLS, HTTP answer to the upgrade, dead peer: the close that follows is logged with it.
          if (connection === this.connection) {
            this.lastTransportError = error.message;
            this.lastTlsFailure = describeTlsFailure(error);
          }
          this.logger.debug({ err: error.message }, 'aggregator connection error');
        },
      },
    );
    this.connection = connection;
  }

  /** Drops the current connection as after an agent error (1011): the usual reconnect follows. */
  drop(): void {
    this.connection?.close(CLOSE_CODES.internalError, 'agent error');
  }

  /** No reconnect after this. */
  beginStop(): void {
    this.stopping = true;
    clearTimeout(this.reconnectTimer);
  }

  /** Closes the connection with 1000 and waits for the messages being handled. */
  async close(): Promise<void> {
    const connection = this.connection;
    if (connection) await connection.closeAndWait(CLOSE_CODES.normal, 'agent stopping');
    await this.inbox;
  }

  private onOpen(connection: Connection): void {
    if (connection !== this.connection) return;
    this.logger.debug({ aggregator: redactUrl(this.url) }, 'connected');
    if (this.pendingToken !== undefined && !this.reenroll) {
      this.sendHello(connection, { token: this.pendingToken, fleetKey: '' });
      return;
    }
    if (this.current && !this.reenroll) {
      this.sendHello(connection, this.current);
      return;
    }
    if (!this.options.enrollSecret) {
      this.logger.error(
        {},
        'not enrolled and no enroll secret: pass --enroll-secret or set ENVPARITY_ENROLL_SECRET; retrying',
      );
      connection.close(CLOSE_CODES.normal, 'no enroll secret');
      return;
    }
    this.state = 'enrolling';
    const message: EnrollMessage = {
      type: 'enroll',
      v: PROTOCOL_VERSION,
      enrollSecret: this.options.enrollSecret,
      hostId: this.options.hostId,
      labels: this.config.labels,
      agentVersion: AGENT_VERSION,
      ...(this.config.environment ? { environment: this.config.environment } : {}),
    };
    connection.send(message);
    this.logger.info({ hostId: this.options.hostId }, 'enrolling');
  }

  private sendHello(connection: Connection, credentials: Credentials): void {
    this.state = 'hello';
    const declaredClasses = probeClassRules(this.config.watch.probes);
    connection.send({
      type: 'hello',
      v: PROTOCOL_VERSION,
      token: credentials.token,
      hostId: this.options.hostId,
      labels: this.config.labels,
      agentVersion: AGENT_VERSION,
      lastAckedSeq: this.outbox.lastAckedSeq,
      fingerprints: this.outbox.ackedFingerprints(),
      ...(this.config.environment ? { environment: this.config.environment } : {}),
      // Before any report of this connection: the aggregator classifies the probes' facts with them.
      ...(declaredClasses.length > 0 ? { classes: declaredClasses } : {}),
    });
  }

  private async onMessage(connection: Connection, message: ServerMessage): Promise<void> {
    if (connection !== this.connection) return;
    switch (message.type) {
      case 'enrolled':
        if (message.pending || message.fleetKey === undefined) return this.onEnrolledPending(connection, message.token);
        return this.onEnrolled(connection, message.token, message.fleetKey, message.hostId);
      case 'welcome':
        await this.adoptWelcomeCredentials(message.token, message.fleetKey);
        return this.onWelcome(connection, message.lastSeq, message.need, message.heartbeatSeconds);
      case 'ack':
        return this.events.ack(message.seq);
      case 'collect':
        return this.events.collectRequested(message.categories);
      case 'resync':
        return this.events.resyncRequested(message.reason, message.categories);
      case 'error':
        this.logger.warn({ code: message.code, message: message.message }, 'the aggregator reported an error');
        return;
    }
  }

  private async onEnrolled(connection: Connection, token: string, fleetKey: string, hostId: string): Promise<void> {
    if (this.state !== 'enrolling') {
      this.logger.warn({}, 'unexpected enrolled message: ignored');
      return;
    }
    if (hostId !== this.options.hostId) {
      this.logger.warn({ hostId: this.options.hostId, enrolledAs: hostId }, 'the aggregator enrolled another host id');
    }
    await saveCredentials(this.options.stateDir, { token, fleetKey });
    const keyChanged = this.current?.fleetKey !== fleetKey;
    this.current = { token, fleetKey };
    this.reenroll = false;
    await this.outbox.markUnsynced();
    this.logger.info({ hostId: this.options.hostId }, 'enrolled: token and fleet key saved');
    if (connection !== this.connection) return;
    this.sendHello(connection, this.current);
    if (keyChanged) this.events.fleetKeyChanged();
  }

  /** Approval mode: hold the token (not saved: a restart asks again) and say hello; 4014 follows until approved. */
  private onEnrolledPending(connection: Connection, token: string): void {
    if (this.state !== 'enrolling') {
      this.logger.warn({}, 'unexpected enrolled message: ignored');
      return;
    }
    this.pendingToken = token;
    this.reenroll = false;
    this.logger.warn(
      { hostId: this.options.hostId },
      'enrolled, awaiting approval by an admin (POST /api/v1/hosts/:id/approve); no facts are sent until then',
    );
    if (connection !== this.connection) return;
    this.sendHello(connection, { token, fleetKey: '' });
  }

  /**
   * A welcome may carry credentials: the fleet key (first after an approval, or a changed one) and a
   * rotated token. They are saved before anything else happens on this connection; a change of
   * fleet key makes every collected secret hash stale.
   */
  private async adoptWelcomeCredentials(token: string | undefined, fleetKey: string | undefined): Promise<void> {
    if (this.state !== 'hello') return;
    // The hello used the pending token when there is one (a re-enrollment that waited for approval).
    const approved = this.pendingToken !== undefined;
    const current = approved ? { token: this.pendingToken as string, fleetKey: '' } : this.current;
    if (!current) return;
    const next = { token: token ?? current.token, fleetKey: fleetKey || current.fleetKey };
    if (!approved && next.token === current.token && next.fleetKey === current.fleetKey) return;
    if (!next.fleetKey) return; // never save a token without its fleet key
    try {
      await saveCredentials(this.options.stateDir, next);
    } catch (error) {
      // Still usable for this connection; the aggregator accepts the previous token until the new one is used.
      this.logger.error({ err: errorMessage(error) }, 'cannot save the new credentials in the state dir');
    }
    const keyChanged = this.current?.fleetKey !== next.fleetKey;
    this.current = next;
    this.pendingToken = undefined;
    // Like after `enrolled`: a new host (or a re-enrolled one) starts from full reports.
    if (approved) await this.outbox.markUnsynced();
    if (approved) this.logger.info({ hostId: this.options.hostId }, 'approved by an admin: token and fleet key saved');
    if (token !== undefined) this.logger.info({ hostId: this.options.hostId }, 'agent token rotated: new token saved');
    if (keyChanged || approved) this.events.fleetKeyChanged();
  }

  private async onWelcome(
    connection: Connection,
    lastSeq: number,
    need: readonly string[],
    heartbeatSeconds: number | undefined,
  ): Promise<void> {
    if (this.state !== 'hello') {
      this.logger.warn({}, 'unexpected welcome message: ignored');
      return;
    }
    const replay = await this.outbox.welcome(lastSeq);
    this.state = 'ready';
    this.welcomedAt = Date.now();
    this.rotation.welcomed();
    this.logger.info({ aggregator: redactUrl(this.url), lastSeq, need, replay }, 'connected to the aggregator');
    await this.events.ready(connection, {
      need,
      heartbeatSeconds: clampHeartbeatSeconds(heartbeatSeconds ?? this.config.interval),
    });
  }

  private onClose(connection: Connection, code: number, reason: string): void {
    if (connection !== this.connection) return;
    this.connection = undefined;
    const wasReady = this.state === 'ready';
    this.state = 'idle';
    this.events.disconnected();
    // An admin rotated the token: say hello again at once (to the same aggregator), whatever the backoff.
    if (code === CLOSE_CODES.tokenRotation) this.rotation.resetBackoff();
    const stable =
      this.welcomedAt !== undefined &&
      Date.now() - this.welcomedAt >= (this.options.stableMs ?? DEFAULT_STABLE_CONNECTION_MS) &&
      // Two agents with one host id knock each other off (4040, or 4010 after a re-enrollment): never reset then.
      code !== CLOSE_CODES.replaced &&
      code !== CLOSE_CODES.unauthorized;
    if (stable) this.rotation.resetBackoff();
    this.logClose(code, reason, wasReady);
    if (wasReady && isReportRejection(code, reason) && this.outbox.spooled > 0)
      this.events.reportsRejected(code, reason);
    // Re-enroll only once the rejection is believed: every URL, or one for 10 s (one URL: at once, as ever).
    const tokenRevoked = code === CLOSE_CODES.unauthorized && this.rotation.tokenRejected();
    if (tokenRevoked && this.current && this.options.enrollSecret) this.reenroll = true;
    // A pending enrollment that was rejected (its token is unknown now): enroll again.
    if (code === CLOSE_CODES.unauthorized && this.pendingToken !== undefined) this.pendingToken = undefined;
    if (this.stopping) return;
    if (code === CLOSE_CODES.hostRetired) {
      // A retired host is refused on every reconnect and re-enrollment: retrying is pointless.
      this.events.retired(reason);
      return;
    }
    // A close reason `retry after N s` (enrollment lockout or storm) is honoured: never sooner.
    const retryAfter = /^retry after (\d{1,6}) s/.exec(reason);
    const next = this.rotation.next({ stay: code === CLOSE_CODES.tokenRotation });
    const delay = Math.max(next.delayMs, retryAfter ? Number(retryAfter[1]) * 1000 : 0);
    this.reconnectCount++;
    this.logger.info(
      { delayMs: delay, attempt: this.rotation.attempt, aggregator: redactUrl(this.url) },
      this.options.endpoints.length > 1 && !next.roundFailed ? 'failing over to the next aggregator' : 'reconnecting',
    );
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private logClose(code: number, reason: string, wasReady: boolean): void {
    if (this.stopping) return;
    const { level, fields, message } = describeClose({
      code,
      reason,
      wasReady,
      hostId: this.options.hostId,
      hasEnrollSecret: Boolean(this.options.enrollSecret),
      lastTransportError: this.lastTransportError,
      lastTlsFailure: this.lastTlsFailure,
    });
    // The URL that closed, credentials redacted: with several aggregators the operator needs to know which.
    this.logger[level]({ ...fields, aggregator: redactUrl(this.url) }, message);
  }
}
