/**
 * The running agent: one connection at a time to the aggregator (enroll, hello, replay, reports,
 * heartbeats), collection passes (periodic full passes, watch triggers, `collect` requests) and
 * the outbox that turns each pass into a spooled report. Created by startAgent().
 */
import {
  type AgentConfig,
  CLOSE_CODES,
  type Classifier,
  createClassifier,
  type EnrollMessage,
  type FactMap,
  PROTOCOL_VERSION,
  type ServerMessage,
} from '@envparity/shared';
import type { Logger } from 'pino';
import { collectPass } from '../collect.js';
import { isStaleMarker } from '../collectors/process.js';
import type { Collector } from '../collectors/types.js';
import { AGENT_VERSION } from '../version.js';
import { redactUrl } from './aggregator-url.js';
import { type Backoff, type BackoffOptions, createBackoff } from './backoff.js';
import { describeClose } from './close-log.js';
import { CollectedFacts } from './collected-facts.js';
import { Connection, clampHeartbeatSeconds, isReportRejection } from './connection.js';
import { type Credentials, saveCredentials } from './credentials.js';
import { enforceFactBounds } from './fact-bounds.js';
import { type Outbox, QUARANTINE_DIR } from './outbox.js';
import {
  type Coalescer,
  createCoalescer,
  createRateLimiter,
  DEFAULT_AGGREGATOR_REQUEST_INTERVAL_MS,
  type RateLimiter,
  type RateLimiterOptions,
} from './rate-limiter.js';
import { describeReport, type ReportMeta } from './reporter.js';
import { type ClientTlsOptions, describeTlsFailure } from './tls-options.js';
import { type TriggerOptions, watchTargetsFor } from './triggers.js';
import { type ChangeWatcher, createChangeWatcher } from './watcher.js';

/** A connection that reached `welcome` and stayed up this long resets the backoff. */
export const DEFAULT_STABLE_CONNECTION_MS = 10_000;
/** Reports sent and not yet acknowledged, at most: a replay after a long outage does not flood the aggregator. */
export const DEFAULT_MAX_IN_FLIGHT = 16;
/** Changes of volatile facts alone (uptime, free memory) are sent at most this often. */
export const DEFAULT_VOLATILE_REFRESH_MS = 10 * 60_000;
/** How long stop() waits for the acks of reports in flight before closing. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 2_000;

export interface AgentDaemonOptions {
  config: AgentConfig;
  url: string;
  stateDir: string;
  hostId: string;
  enrollSecret: string | undefined;
  credentials: Credentials | undefined;
  outbox: Outbox;
  logger: Logger;
  collectors: readonly Collector[];
  backoff?: BackoffOptions;
  stableMs?: number;
  pingIntervalMs?: number;
  maxInFlight?: number;
  /** Pace of frames sent (reports and heartbeats), under the aggregator's rate limit. */
  sendRate?: Pick<RateLimiterOptions, 'perSecond' | 'burst'>;
  volatileRefreshMs?: number;
  drainTimeoutMs?: number;
  debounceMs?: number;
  triggers?: TriggerOptions;
  classify?: Classifier;
  /** `collect` and `resync` from the aggregator are honoured at most this often (default 10 s); more are coalesced. */
  aggregatorRequestIntervalMs?: number;
  /** Pinned CA and/or server certificate fingerprint for wss:// (tls-options.ts). */
  tls?: ClientTlsOptions;
}

type Phase = 'idle' | 'connecting' | 'enrolling' | 'hello' | 'ready';

/** What status() reports: for tests and diagnostics. */
export interface AgentStatus {
  phase: Phase;
  hostId: string;
  enrolled: boolean;
  lastAckedSeq: number;
  nextSeq: number;
  lastSentSeq: number;
  spooled: number;
  reconnects: number;
  watching: readonly string[];
}

export class AgentDaemon {
  private readonly config: AgentConfig;
  private readonly logger: Logger;
  private readonly outbox: Outbox;
  private readonly backoff: Backoff;
  private readonly collected: CollectedFacts;
  private readonly classify: Classifier;
  private credentials: Credentials | undefined;
  /**
   * Approval mode: the token of an enrollment an admin has not approved yet. Hello uses it (and is
   * told 4014 until the approval); the first welcome brings the fleet key, and only then is it saved.
   */
  private pendingToken: string | undefined;

  private connection: Connection | undefined;
  private phase: Phase = 'idle';
  private inbox: Promise<void> = Promise.resolve();
  private welcomedAt: number | undefined;
  private lastSentSeq = 0;
  private lastSendAt = 0;
  private reenroll = false;
  private lastTransportError: string | undefined;
  /** The last transport error was a TLS check (untrusted CA, fingerprint mismatch...): logged as such. */
  private lastTlsFailure: string | undefined;
  private reconnects = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;

  private pendingFull: Set<string> | 'all' = new Set();
  /** When the last pass finished: the observedAt of reports built outside a pass (welcome, resync). */
  private lastObservedAt = 0;
  /** Timings and errors of the last pass, until a report carries them. */
  private pendingMeta: ReportMeta | undefined;
  /** When a report last carried every volatile change (none was held back). */
  private volatileSentAt = 0;
  /** The collector errors of the last `meta` sent, to send a change in them at once. */
  private sentMetaErrorsKey: string | undefined;
  private readonly sendLimiter: RateLimiter;
  private pumpTimer: NodeJS.Timeout | undefined;
  private pumping = false;
  private pumpAgain = false;
  private drainWaiters: (() => void)[] = [];

  private pendingPass: Set<string> | 'all' | undefined;
  private passWaiters: (() => void)[] = [];
  private passLoop: Promise<void> | undefined;
  private intervalTimer: NodeJS.Timeout | undefined;
  private watcher: ChangeWatcher | undefined;

  private stopping = false;
  private stopped: Promise<void> | undefined;
  private resolveRetired: (reason: string) => void = () => {};
  /** Settles with the aggregator's reason once it retired this host (close 4013): no reconnect follows. */
  readonly retired = new Promise<string>((resolve) => {
    this.resolveRetired = resolve;
  });
  private readonly collectRequests: Coalescer<Set<string> | 'all'>;
  private readonly resyncRequests: Coalescer<true>;

  constructor(private readonly options: AgentDaemonOptions) {
    this.config = options.config;
    this.logger = options.logger;
    this.outbox = options.outbox;
    this.credentials = options.credentials;
    this.backoff = createBackoff(options.backoff);
    this.collected = new CollectedFacts(options.outbox.sent);
    this.classify = options.classify ?? createClassifier();
    this.sendLimiter = createRateLimiter(options.sendRate);
    const intervalMs = options.aggregatorRequestIntervalMs ?? DEFAULT_AGGREGATOR_REQUEST_INTERVAL_MS;
    this.collectRequests = createCoalescer<Set<string> | 'all'>({
      intervalMs,
      merge: (a, b) => (a === 'all' || b === 'all' ? 'all' : new Set([...a, ...b])),
      run: (what) => {
        this.logger.info(
          { categories: what === 'all' ? undefined : [...what], coalesced: this.collectRequests.coalesced },
          'the aggregator asked for a collection',
        );
        void this.schedulePass(what);
      },
    });
    this.resyncRequests = createCoalescer<true>({
      intervalMs,
      merge: () => true,
      run: () => {
        this.produceReport('resync').catch((error: unknown) =>
          this.logger.error({ err: errorMessage(error) }, 'failed to build the resync report'),
        );
      },
    });
  }

  /**
   * An exception nothing caught (a bug, a hostile input): logged, and the connection is dropped so
   * the daemon reconnects with backoff. The daemon never ends on one (startAgent installs this).
   */
  onUncaught(error: unknown): void {
    this.logger.error(
      {
        err: errorMessage(error),
        stack: error instanceof Error ? error.stack?.split('\n').slice(0, 4).join(' | ') : undefined,
      },
      'uncaught error: logged, reconnecting with backoff; the agent goes on',
    );
    this.connection?.close(CLOSE_CODES.internalError, 'agent error');
  }

  /** Connects, arms the watches and starts the first collection pass. */
  async start(): Promise<void> {
    this.logger.info(
      {
        hostId: this.options.hostId,
        environment: this.config.environment,
        aggregator: redactUrl(this.options.url),
        stateDir: this.options.stateDir,
        enrolled: this.credentials !== undefined,
        lastAckedSeq: this.outbox.lastAckedSeq,
        spooled: this.outbox.spooled,
        intervalSeconds: this.config.interval,
      },
      'agent starting',
    );
    this.connect();
    if (this.credentials) void this.schedulePass('all');
    const targets = await watchTargetsFor(this.config, this.options.triggers);
    if (this.stopping) return;
    this.watcher = createChangeWatcher({
      targets,
      logger: this.logger,
      ...(this.options.debounceMs !== undefined ? { debounceMs: this.options.debounceMs } : {}),
      onChange: (tags) => {
        this.logger.debug({ collectors: [...tags] }, 'watched files changed');
        void this.schedulePass(new Set(tags));
      },
    });
    await this.watcher.ready;
    this.logger.debug({ directories: this.watcher.watching }, 'watching for changes');
  }

  status(): AgentStatus {
    return {
      phase: this.phase,
      hostId: this.options.hostId,
      enrolled: this.credentials !== undefined,
      lastAckedSeq: this.outbox.lastAckedSeq,
      nextSeq: this.outbox.nextSeq,
      lastSentSeq: this.lastSentSeq,
      spooled: this.outbox.spooled,
      reconnects: this.reconnects,
      watching: this.watcher?.watching ?? [],
    };
  }

  /**
   * Collects now and reports what changed. `categories` limits the pass to the collectors named
   * like them (the built-in collectors are named after their categories); unknown names: all.
   */
  collectNow(categories?: readonly string[]): Promise<void> {
    return this.schedulePass(categories && categories.length > 0 ? new Set(categories) : 'all');
  }

  /** Clean stop: no new passes, acks of reports in flight awaited briefly, socket closed 1000, spool flushed. */
  stop(): Promise<void> {
    this.stopped ??= this.stopNow();
    return this.stopped;
  }

  private async stopNow(): Promise<void> {
    this.stopping = true;
    this.logger.info({}, 'agent stopping');
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.intervalTimer);
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.pumpTimer);
    this.collectRequests.close();
    this.resyncRequests.close();
    this.watcher?.close();
    this.resolvePassWaiters(this.passWaiters.splice(0));
    if (this.phase === 'ready' && this.outbox.inFlight(this.lastSentSeq) > 0) {
      await this.waitForDrain(this.options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS);
    }
    await this.outbox.close();
    const connection = this.connection;
    if (connection) await connection.closeAndWait(CLOSE_CODES.normal, 'agent stopping');
    await this.inbox;
    await this.outbox.flush();
    this.logger.info({ lastAckedSeq: this.outbox.lastAckedSeq, spooled: this.outbox.spooled }, 'agent stopped');
  }

  // --- connection ------------------------------------------------------------------------

  private connect(): void {
    if (this.stopping) return;
    this.reconnectTimer = undefined;
    this.lastTransportError = undefined;
    this.lastTlsFailure = undefined;
    this.phase = 'connecting';
    this.welcomedAt = undefined;
    const connection: Connection = new Connection(
      {
        url: this.options.url,
        ...(this.options.pingIntervalMs !== undefined ? { pingIntervalMs: this.options.pingIntervalMs } : {}),
        ...(this.options.tls ? { tls: this.options.tls } : {}),
      },
      {
        open: () => this.onOpen(connection),
        message: (message) => {
          // One message at a time, in order, even when handling one awaits the disk.
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

  private onOpen(connection: Connection): void {
    if (connection !== this.connection) return;
    this.logger.debug({}, 'connected');
    if (this.pendingToken !== undefined && !this.reenroll) {
      this.sendHello(connection, { token: this.pendingToken, fleetKey: '' });
      return;
    }
    if (!this.credentials || this.reenroll) {
      if (!this.options.enrollSecret) {
        this.logger.error(
          {},
          'not enrolled and no enroll secret: pass --enroll-secret or set ENVPARITY_ENROLL_SECRET; retrying',
        );
        connection.close(CLOSE_CODES.normal, 'no enroll secret');
        return;
      }
      this.phase = 'enrolling';
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
      return;
    }
    this.sendHello(connection, this.credentials);
  }

  private sendHello(connection: Connection, credentials: Credentials): void {
    this.phase = 'hello';
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
        return this.onWelcome(message.lastSeq, message.need, message.heartbeatSeconds);
      case 'ack':
        return this.onAck(message.seq);
      case 'collect':
        // At most once per aggregatorRequestIntervalMs; a flood is coalesced into one later pass.
        this.collectRequests.request(
          message.categories && message.categories.length > 0 ? new Set(message.categories) : 'all',
        );
        return;
      case 'resync': {
        this.logger.info(
          { reason: message.reason.slice(0, 200), categories: message.categories },
          'the aggregator asked for a resync',
        );
        this.addPendingFull(message.categories ?? 'all');
        this.resyncRequests.request(true);
        return;
      }
      case 'error':
        this.logger.warn({ code: message.code, message: message.message }, 'the aggregator reported an error');
        return;
    }
  }

  private async onEnrolled(connection: Connection, token: string, fleetKey: string, hostId: string): Promise<void> {
    if (this.phase !== 'enrolling') {
      this.logger.warn({}, 'unexpected enrolled message: ignored');
      return;
    }
    if (hostId !== this.options.hostId) {
      this.logger.warn({ hostId: this.options.hostId, enrolledAs: hostId }, 'the aggregator enrolled another host id');
    }
    await saveCredentials(this.options.stateDir, { token, fleetKey });
    const keyChanged = this.credentials?.fleetKey !== fleetKey;
    this.credentials = { token, fleetKey };
    this.reenroll = false;
    await this.outbox.markUnsynced();
    this.logger.info({ hostId: this.options.hostId }, 'enrolled: token and fleet key saved');
    if (connection !== this.connection) return;
    this.sendHello(connection, this.credentials);
    if (keyChanged) {
      // Secrets are hashed with the fleet key: everything collected before is stale.
      this.collected.clear();
      void this.schedulePass('all');
    }
  }

  /** Approval mode: hold the token (not saved: a restart asks again) and say hello; 4014 follows until approved. */
  private onEnrolledPending(connection: Connection, token: string): void {
    if (this.phase !== 'enrolling') {
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
    if (this.phase !== 'hello') return;
    // The hello used the pending token when there is one (a re-enrollment that waited for approval).
    const approved = this.pendingToken !== undefined;
    const current = approved ? { token: this.pendingToken as string, fleetKey: '' } : this.credentials;
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
    const keyChanged = this.credentials?.fleetKey !== next.fleetKey;
    this.credentials = next;
    this.pendingToken = undefined;
    // Like after `enrolled`: a new host (or a re-enrolled one) starts from full reports.
    if (approved) await this.outbox.markUnsynced();
    if (approved) this.logger.info({ hostId: this.options.hostId }, 'approved by an admin: token and fleet key saved');
    if (token !== undefined) this.logger.info({ hostId: this.options.hostId }, 'agent token rotated: new token saved');
    if (keyChanged || approved) {
      this.collected.clear();
      void this.schedulePass('all');
    }
  }

  private async onWelcome(lastSeq: number, need: readonly string[], heartbeatSeconds?: number): Promise<void> {
    if (this.phase !== 'hello') {
      this.logger.warn({}, 'unexpected welcome message: ignored');
      return;
    }
    const replay = await this.outbox.welcome(lastSeq);
    this.phase = 'ready';
    this.welcomedAt = Date.now();
    // The seq the outbox adopted: a poisoned lastSeq (past 2^51) is ignored, so sending never stops.
    this.lastSentSeq = Math.max(this.outbox.aggregatorLastSeq, this.outbox.lastAckedSeq);
    if (need.length > 0) this.addPendingFull(need);
    this.logger.info({ lastSeq, need, replay }, 'connected to the aggregator');
    this.startHeartbeat(clampHeartbeatSeconds(heartbeatSeconds ?? this.config.interval));
    this.pump();
    if (this.collected.ready) await this.produceReport('welcome');
  }

  private async onAck(seq: number): Promise<void> {
    let through = seq;
    if (through > this.lastSentSeq) {
      this.logger.warn(
        { seq, lastSentSeq: this.lastSentSeq },
        'ack for a report not sent yet: ignored past the last sent',
      );
      through = this.lastSentSeq;
    }
    this.logger.debug({ seq }, 'ack');
    // Not awaited in the inbox: acks are applied in the outbox's own order, the inbox moves on.
    void this.outbox.acknowledge(through).then(
      () => {
        this.pump();
        if (this.outbox.inFlight(this.lastSentSeq) === 0) this.resolveDrain();
      },
      (error: unknown) => this.logger.error({ err: errorMessage(error) }, 'failed to record an ack'),
    );
  }

  private onClose(connection: Connection, code: number, reason: string): void {
    if (connection !== this.connection) return;
    this.connection = undefined;
    const wasReady = this.phase === 'ready';
    this.phase = 'idle';
    clearInterval(this.heartbeatTimer);
    this.resolveDrain();
    // An admin rotated the token: say hello again at once, whatever the backoff.
    if (code === CLOSE_CODES.tokenRotation) this.backoff.reset();
    const stable =
      this.welcomedAt !== undefined &&
      Date.now() - this.welcomedAt >= (this.options.stableMs ?? DEFAULT_STABLE_CONNECTION_MS) &&
      // Two agents with one host id knock each other off (4040, or 4010 after a re-enrollment): never reset then.
      code !== CLOSE_CODES.replaced &&
      code !== CLOSE_CODES.unauthorized;
    if (stable) this.backoff.reset();
    this.logClose(code, reason, wasReady);
    if (wasReady && isReportRejection(code, reason) && this.outbox.spooled > 0) this.quarantineRejected(code, reason);
    if (code === CLOSE_CODES.unauthorized && this.credentials && this.options.enrollSecret) this.reenroll = true;
    // A pending enrollment that was rejected (its token is unknown now): enroll again.
    if (code === CLOSE_CODES.unauthorized && this.pendingToken !== undefined) this.pendingToken = undefined;
    if (this.stopping) return;
    if (code === CLOSE_CODES.hostRetired) {
      // A retired host is refused on every reconnect and re-enrollment: retrying is pointless.
      this.resolveRetired(reason);
      return;
    }
    // A close reason `retry after N s` (enrollment lockout or storm) is honoured: never sooner.
    const retryAfter = /^retry after (\d{1,6}) s/.exec(reason);
    const delay = Math.max(this.backoff.next(), retryAfter ? Number(retryAfter[1]) * 1000 : 0);
    this.reconnects++;
    this.logger.info({ delayMs: delay, attempt: this.backoff.attempt }, 'reconnecting');
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  /**
   * The aggregator rejected a report as invalid: replaying it would be rejected forever and block
   * every later report. The unacknowledged reports go to `<state>/quarantine/` and the next
   * connection starts with a fresh full report.
   */
  private quarantineRejected(code: number, reason: string): void {
    this.addPendingFull('all');
    this.outbox.quarantineUnacknowledged().then(
      (seqs) => {
        if (seqs.length === 0) return;
        this.logger.error(
          { code, reason, seqs: [seqs[0], seqs.at(-1)], count: seqs.length, dir: QUARANTINE_DIR },
          'the aggregator rejected a report as invalid: unacknowledged reports quarantined, a fresh full report follows',
        );
      },
      (error: unknown) => this.logger.error({ err: errorMessage(error) }, 'failed to quarantine rejected reports'),
    );
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
    this.logger[level](fields, message);
  }

  private startHeartbeat(seconds: number): void {
    clearInterval(this.heartbeatTimer);
    const halfMs = Math.max(500, (seconds * 1000) / 2);
    this.heartbeatTimer = setInterval(() => {
      if (Date.now() - this.lastSendAt >= halfMs) this.sendHeartbeat();
    }, halfMs);
    this.heartbeatTimer.unref();
  }

  private sendHeartbeat(): void {
    if (this.phase !== 'ready' || !this.connection) return;
    // While replaying at the rate limit, the reports themselves show the agent is alive.
    if (this.sendLimiter.take() > 0) return;
    if (this.connection.send({ type: 'heartbeat' })) this.lastSendAt = Date.now();
  }

  /** Sends spooled reports above the last sent seq, in order, keeping at most maxInFlight unacknowledged. */
  private pump(): void {
    if (this.phase !== 'ready' || !this.connection) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    void this.pumpLoop(this.connection)
      .catch((error: unknown) => this.logger.error({ err: errorMessage(error) }, 'failed to send spooled reports'))
      .finally(() => {
        this.pumping = false;
        if (this.pumpAgain) {
          this.pumpAgain = false;
          this.pump();
        }
      });
  }

  private async pumpLoop(connection: Connection): Promise<void> {
    const maxInFlight = this.options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    while (this.phase === 'ready' && this.connection === connection) {
      if (this.outbox.inFlight(this.lastSentSeq) >= maxInFlight) return;
      const next = await this.outbox.next(this.lastSentSeq);
      if (!next || this.phase !== 'ready' || this.connection !== connection) return;
      const wait = this.sendLimiter.take();
      if (wait > 0) {
        clearTimeout(this.pumpTimer);
        this.pumpTimer = setTimeout(() => this.pump(), wait);
        return;
      }
      if (!connection.send(next.frame)) return;
      this.lastSentSeq = next.seq;
      this.lastSendAt = Date.now();
      this.logger.debug({ seq: next.seq, bytes: next.frame.length }, 'report sent');
    }
  }

  private waitForDrain(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.drainWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private resolveDrain(): void {
    for (const resolve of this.drainWaiters.splice(0)) resolve();
  }

  // --- collection and reports ----------------------------------------------------------------

  private addPendingFull(categories: readonly string[] | 'all'): void {
    if (categories === 'all' || this.pendingFull === 'all') {
      this.pendingFull = 'all';
      return;
    }
    for (const category of categories) this.pendingFull.add(category);
  }

  /** Turns the current facts into a spooled report (or nothing when unchanged) and sends it. */
  private async produceReport(reason: string): Promise<'spooled' | 'unchanged' | 'skipped'> {
    if (!this.collected.ready || !this.credentials || this.stopping) return 'skipped';
    const observedAt = this.lastObservedAt;
    const meta = this.pendingMeta;
    const full = this.pendingFull;
    const fullRequested = full === 'all' || full.size > 0;
    const now = Date.now();
    const volatileRefreshMs = this.options.volatileRefreshMs ?? DEFAULT_VOLATILE_REFRESH_MS;
    // Volatile changes (uptime, free memory) are sent at most every volatileRefreshMs: in between they
    // are held back, even from a report that other changes make, so a one-path change stays one path.
    const holdVolatile = !fullRequested && volatileRefreshMs > 0 && now - this.volatileSentAt < volatileRefreshMs;
    // Collector timings ride on the same cadence (they change every pass and would triple a one-path
    // report); a change in collector errors is sent at once.
    const metaErrorsKey = meta ? JSON.stringify(meta.errors ?? []) : undefined;
    const sendMeta = meta !== undefined && (!holdVolatile || metaErrorsKey !== this.sentMetaErrorsKey);
    const outcome = await this.outbox.report({
      current: this.collected.facts(),
      observedAt,
      ...(fullRequested ? { full } : {}),
      ...(sendMeta ? { meta } : {}),
      ...(holdVolatile
        ? { holdBack: (path: string) => this.classify(path) === 'volatile' && !isStaleMarker(path) }
        : {}),
    });
    if (outcome.status !== 'spooled') return outcome.status === 'unchanged' ? 'unchanged' : 'skipped';
    if (!holdVolatile) this.volatileSentAt = now;
    if (sendMeta) {
      this.sentMetaErrorsKey = metaErrorsKey;
      if (this.pendingMeta === meta) this.pendingMeta = undefined;
    }
    if (full === 'all') {
      if (this.pendingFull === 'all') this.pendingFull = new Set();
    } else if (this.pendingFull !== 'all') {
      for (const category of full) this.pendingFull.delete(category);
    }
    const summary = describeReport(outcome.body);
    this.logger.info(
      { reason, seqs: outcome.seqs, full: summary.full, delta: summary.delta, paths: summary.paths },
      'report spooled',
    );
    this.pump();
    return 'spooled';
  }

  private schedulePass(what: Set<string> | 'all'): Promise<void> {
    if (this.stopping) return Promise.resolve();
    if (what === 'all' || this.pendingPass === 'all') this.pendingPass = 'all';
    else this.pendingPass = new Set([...(this.pendingPass ?? []), ...what]);
    const done = new Promise<void>((resolve) => this.passWaiters.push(resolve));
    this.kickPasses();
    return done;
  }

  private kickPasses(): void {
    if (this.passLoop || this.stopping || !this.pendingPass) return;
    this.passLoop = this.runPasses().finally(() => {
      this.passLoop = undefined;
      this.kickPasses();
    });
  }

  private async runPasses(): Promise<void> {
    while (this.pendingPass && !this.stopping) {
      const what = this.pendingPass;
      const waiters = this.passWaiters.splice(0);
      this.pendingPass = undefined;
      try {
        await this.runPass(what);
      } catch (error) {
        this.logger.error({ err: errorMessage(error) }, 'collection pass failed');
      } finally {
        this.resolvePassWaiters(waiters);
      }
    }
    if (this.stopping) this.resolvePassWaiters(this.passWaiters.splice(0));
  }

  private resolvePassWaiters(waiters: (() => void)[]): void {
    for (const resolve of waiters) resolve();
  }

  private async runPass(what: Set<string> | 'all'): Promise<void> {
    const credentials = this.credentials;
    if (!credentials) {
      this.logger.debug({}, 'not enrolled yet: collection waits for the fleet key');
      return;
    }
    const all = this.options.collectors;
    let selected = what === 'all' ? all : all.filter((collector) => what.has(collector.name));
    if (selected.length === 0) selected = all;
    const complete = selected.length === all.length;
    if (complete) this.scheduleIntervalPass();
    const { document, byCollector } = await collectPass({
      config: this.config,
      stateDir: this.options.stateDir,
      hashKey: credentials.fleetKey,
      hostId: this.options.hostId,
      collectors: selected,
    });
    const observedAt = Date.now();
    if (this.stopping) return;
    // Values over 64 KB are sent hashed, and a host past 200k paths has its largest categories refused.
    document.errors.push(...enforceFactBounds(document.facts, byCollector.values()));
    if (this.credentials?.fleetKey !== credentials.fleetKey) {
      // Re-enrolled with another fleet key during the pass: its secret hashes are stale.
      void this.schedulePass('all');
      return;
    }
    const succeeded = new Map<string, FactMap>();
    const failed: string[] = [];
    for (const report of document.collectors) {
      const facts = byCollector.get(report.name);
      if (facts) {
        // The bounds may have refused paths of the collector (past the per-host path cap).
        for (const path of Object.keys(facts)) if (!Object.hasOwn(document.facts, path)) delete facts[path];
        succeeded.set(report.name, facts);
      } else {
        failed.push(report.name);
        this.logger.warn({ collector: report.name, timedOut: report.timedOut ?? false }, 'collector failed');
        this.logger.debug({ collector: report.name, err: report.error?.slice(0, 300) }, 'collector error');
      }
    }
    this.collected.record({ succeeded, failed, complete });
    this.logger.debug(
      { collectors: selected.map((c) => c.name), durationMs: document.durationMs, failed: failed.length },
      'collection pass done',
    );
    this.lastObservedAt = observedAt;
    this.pendingMeta = { durationMs: document.durationMs, collectors: document.collectors, errors: document.errors };
    const outcome = await this.produceReport(complete ? 'full pass' : 'change');
    if (outcome === 'unchanged') this.sendHeartbeat();
  }

  private scheduleIntervalPass(): void {
    clearTimeout(this.intervalTimer);
    if (this.stopping) return;
    this.intervalTimer = setTimeout(() => void this.schedulePass('all'), this.config.interval * 1000);
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
