/**
 * The running agent, composed of its jobs: the aggregator session (connection lifecycle:
 * aggregator-session.ts), collection passes (collection-passes.ts), the report policy (what the
 * next report holds and when: report-policy.ts), the sender (spooled reports on the wire:
 * report-sender.ts), the outbox that spools reports, and the watches that trigger passes.
 * Created by startAgent().
 */
import { type AgentConfig, type Classifier, createClassifier } from '@envparity/shared';
import type { Logger } from 'pino';
import type { Collector } from '../collectors/types.js';
import {
  type AggregatorEndpoint,
  AggregatorSession,
  DEFAULT_STABLE_CONNECTION_MS,
  type SessionPhase,
} from './aggregator-session.js';
import { redactUrl } from './aggregator-url.js';
import type { BackoffOptions } from './backoff.js';
import { CollectedFacts } from './collected-facts.js';
import { CollectionPasses } from './collection-passes.js';
import type { Credentials } from './credentials.js';
import { errorMessage } from './error-message.js';
import type { Outbox } from './outbox.js';
import type { RateLimiterOptions } from './rate-limiter.js';
import { DEFAULT_VOLATILE_REFRESH_MS, ReportPolicy } from './report-policy.js';
import { DEFAULT_MAX_IN_FLIGHT, ReportSender } from './report-sender.js';
import { type TriggerOptions, watchTargetsFor } from './triggers.js';
import { type ChangeWatcher, createChangeWatcher } from './watcher.js';

export { DEFAULT_MAX_IN_FLIGHT, DEFAULT_STABLE_CONNECTION_MS, DEFAULT_VOLATILE_REFRESH_MS };
/** How long stop() waits for the acks of reports in flight before closing. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 2_000;

export interface AgentDaemonOptions {
  config: AgentConfig;
  /** The aggregators to connect to, in order (fail-over: aggregator-rotation.ts); at least one. */
  endpoints: readonly AggregatorEndpoint[];
  stateDir: string;
  hostId: string;
  enrollSecret: string | undefined;
  credentials: Credentials | undefined;
  outbox: Outbox;
  logger: Logger;
  collectors: readonly Collector[];
  backoff?: BackoffOptions;
  stableMs?: number;
  /** With several aggregators: how long one must keep rejecting the token before the agent re-enrolls. */
  tokenRejectionConfirmMs?: number;
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
}

/** What status() reports: for tests and diagnostics. */
export interface AgentStatus {
  phase: SessionPhase;
  hostId: string;
  /** The aggregator connected to (or tried next), credentials redacted. */
  aggregator: string;
  enrolled: boolean;
  lastAckedSeq: number;
  nextSeq: number;
  lastSentSeq: number;
  spooled: number;
  reconnects: number;
  watching: readonly string[];
}

export class AgentDaemon {
  private readonly options: AgentDaemonOptions;
  private readonly logger: Logger;
  private readonly outbox: Outbox;
  private readonly collected: CollectedFacts;
  private readonly session: AggregatorSession;
  private readonly sender: ReportSender;
  private readonly policy: ReportPolicy;
  private readonly passes: CollectionPasses;
  private watcher: ChangeWatcher | undefined;
  private stopping = false;
  private stopped: Promise<void> | undefined;
  private resolveRetired: (reason: string) => void = () => {};
  /** Settles with the aggregator's reason once it retired this host (close 4013): no reconnect follows. */
  readonly retired = new Promise<string>((resolve) => {
    this.resolveRetired = resolve;
  });

  constructor(options: AgentDaemonOptions) {
    this.options = options;
    this.logger = options.logger;
    this.outbox = options.outbox;
    const { logger, outbox } = options;
    this.collected = new CollectedFacts(outbox.sent);
    const { aggregatorRequestIntervalMs } = options;
    this.sender = new ReportSender({ outbox, logger, maxInFlight: options.maxInFlight, sendRate: options.sendRate });
    this.policy = new ReportPolicy({
      outbox,
      collected: this.collected,
      classify: options.classify ?? createClassifier(),
      logger,
      canReport: () => this.session.credentials !== undefined,
      spooled: () => this.sender.pump(),
      volatileRefreshMs: options.volatileRefreshMs,
      aggregatorRequestIntervalMs,
    });
    this.passes = new CollectionPasses({
      config: options.config,
      stateDir: options.stateDir,
      hostId: options.hostId,
      collectors: options.collectors,
      collected: this.collected,
      logger,
      fleetKey: () => this.session.credentials?.fleetKey,
      passDone: async ({ complete, observedAt, meta }) => {
        this.policy.passDone(observedAt, meta);
        const outcome = await this.policy.produce(complete ? 'full pass' : 'change');
        if (outcome === 'unchanged') this.sender.sendHeartbeat();
      },
      aggregatorRequestIntervalMs,
    });
    this.session = this.createSession();
  }

  private createSession(): AggregatorSession {
    const { options } = this;
    return new AggregatorSession({
      config: options.config,
      endpoints: options.endpoints,
      stateDir: options.stateDir,
      hostId: options.hostId,
      enrollSecret: options.enrollSecret,
      credentials: options.credentials,
      outbox: options.outbox,
      logger: options.logger,
      backoff: options.backoff,
      stableMs: options.stableMs,
      tokenRejectionConfirmMs: options.tokenRejectionConfirmMs,
      pingIntervalMs: options.pingIntervalMs,
      events: {
        ready: async (connection, { need, heartbeatSeconds }) => {
          if (need.length > 0) this.policy.requireFull(need);
          this.sender.attach(connection, heartbeatSeconds);
          if (this.collected.ready) await this.policy.produce('welcome');
        },
        ack: (seq) => this.sender.acknowledge(seq),
        disconnected: () => this.sender.detach(),
        fleetKeyChanged: () => {
          // Secrets are hashed with the fleet key: everything collected before is stale.
          this.collected.clear();
          void this.passes.schedule('all');
        },
        collectRequested: (categories) => this.passes.requestFromAggregator(categories),
        resyncRequested: (reason, categories) => this.policy.resync(reason, categories),
        reportsRejected: (code, reason) => this.policy.reportsRejected(code, reason),
        retired: (reason) => this.resolveRetired(reason),
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
    this.session.drop();
  }

  /** Connects, arms the watches and starts the first collection pass. */
  async start(): Promise<void> {
    const { config } = this.options;
    this.logger.info(
      {
        hostId: this.options.hostId,
        environment: config.environment,
        aggregators: this.options.endpoints.map((endpoint) => redactUrl(endpoint.url)),
        stateDir: this.options.stateDir,
        enrolled: this.session.credentials !== undefined,
        lastAckedSeq: this.outbox.lastAckedSeq,
        spooled: this.outbox.spooled,
        intervalSeconds: config.interval,
      },
      'agent starting',
    );
    this.session.connect();
    if (this.session.credentials) void this.passes.schedule('all');
    const targets = await watchTargetsFor(config, this.options.triggers);
    if (this.stopping) return;
    this.watcher = createChangeWatcher({
      targets,
      logger: this.logger,
      ...(this.options.debounceMs !== undefined ? { debounceMs: this.options.debounceMs } : {}),
      onChange: (tags) => {
        this.logger.debug({ collectors: [...tags] }, 'watched files changed');
        void this.passes.schedule(new Set(tags));
      },
    });
    await this.watcher.ready;
    this.logger.debug({ directories: this.watcher.watching }, 'watching for changes');
  }

  status(): AgentStatus {
    return {
      phase: this.session.phase,
      hostId: this.options.hostId,
      aggregator: redactUrl(this.session.url),
      enrolled: this.session.credentials !== undefined,
      lastAckedSeq: this.outbox.lastAckedSeq,
      nextSeq: this.outbox.nextSeq,
      lastSentSeq: this.sender.lastSentSeq,
      spooled: this.outbox.spooled,
      reconnects: this.session.reconnects,
      watching: this.watcher?.watching ?? [],
    };
  }

  /**
   * Collects now and reports what changed. `categories` limits the pass to the collectors named
   * like them (the built-in collectors are named after their categories); unknown names: all.
   */
  collectNow(categories?: readonly string[]): Promise<void> {
    return this.passes.schedule(categories && categories.length > 0 ? new Set(categories) : 'all');
  }

  /** Clean stop: no new passes, acks of reports in flight awaited briefly, socket closed 1000, spool flushed. */
  stop(): Promise<void> {
    this.stopped ??= this.stopNow();
    return this.stopped;
  }

  private async stopNow(): Promise<void> {
    this.stopping = true;
    this.logger.info({}, 'agent stopping');
    this.session.beginStop();
    this.passes.stop();
    this.policy.stop();
    this.sender.stopTimers();
    this.watcher?.close();
    await this.sender.drain(this.options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS);
    await this.outbox.close();
    await this.session.close();
    await this.outbox.flush();
    this.logger.info({ lastAckedSeq: this.outbox.lastAckedSeq, spooled: this.outbox.spooled }, 'agent stopped');
  }
}
