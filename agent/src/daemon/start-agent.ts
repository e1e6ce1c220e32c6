import {
  type AgentConfig,
  type AgentConfigInput,
  ConfigError,
  EnvparityError,
  formatIssues,
  helloMessageSchema,
  MAX_TOKEN_LENGTH,
  PROTOCOL_VERSION,
  validateAgentConfig,
} from '@envparity/shared';
import type { Logger } from 'pino';
import { BUILTIN_COLLECTORS } from '../collectors/index.js';
import type { Collector } from '../collectors/types.js';
import { defaultHostId } from '../host-id.js';
import { hostFsFor } from '../host-root.js';
import { defaultStateDir, ensureStateDir } from '../state-dir.js';
import { AGENT_VERSION } from '../version.js';
import { AgentDaemon, type AgentStatus } from './agent-daemon.js';
import type { AggregatorEndpoint } from './aggregator-session.js';
import { agentChannelUrls } from './aggregator-url.js';
import type { BackoffOptions } from './backoff.js';
import { readCredentials } from './credentials.js';
import { createAgentLogger, type LogLevel } from './logger.js';
import { Outbox } from './outbox.js';
import { DEFAULT_LOG_LINES_PER_MINUTE, rateLimitLogs } from './rate-limiter.js';
import { saveAgentIdentity } from './state-store.js';
import { assertSecureTransport, loadClientTlsOptions } from './tls-options.js';

export interface StartAgentOptions {
  /**
   * Aggregator URL: ws://, wss://, http:// (-> ws) or https:// (-> wss), or a list of them to fail
   * over between (tried in order, wrapping around); default `config.aggregator`.
   */
  aggregator?: string | readonly string[];
  /** The agent config, parsed or raw (validated here). Flags are merged into it by the CLI. */
  config?: AgentConfig | AgentConfigInput;
  /** Needed when the state dir holds no agent token yet (or the token was revoked). */
  enrollSecret?: string;
  /** Default: `config.hostId`, else derived from the hostname and machine id. */
  hostId?: string;
  /** Default: `config.stateDir`, else defaultStateDir(). */
  stateDir?: string;
  /** Default: pino JSON lines on stdout at `logLevel` (default `config.logLevel`). */
  logger?: Logger;
  logLevel?: LogLevel;
  /** Default: the built-in collectors. Tests pass stubs. */
  collectors?: readonly Collector[];
  /** Package database paths to watch when they exist (default: dpkg, rpm, apk). */
  packageDatabases?: readonly string[];
  /** Quiet time after a watched change before recollecting (default 300 ms). */
  debounceMs?: number;
  backoff?: BackoffOptions;
  /** A connection up this long after `welcome` resets the backoff (default 10 s). */
  stableMs?: number;
  /** With several aggregators: one that keeps rejecting the token this long is believed (default 10 s). */
  tokenRejectionConfirmMs?: number;
  /** Agent-side ping period; a missing pong by the next ping drops the socket (default 30 s). */
  pingIntervalMs?: number;
  /** Unacknowledged reports on the wire, at most (default 16). */
  maxInFlight?: number;
  /** Pace of frames sent (default 20/s, burst 100: under the aggregator's default 50/s, burst 200). */
  sendRate?: { perSecond?: number; burst?: number };
  /** Volatile-only changes are reported at most this often (default 10 min; 0: always). */
  volatileRefreshMs?: number;
  /** How long stop() waits for acks of reports in flight (default 2 s). */
  drainTimeoutMs?: number;
  /** `collect` and `resync` from the aggregator are honoured at most this often (default 10 s). */
  aggregatorRequestIntervalMs?: number;
  /**
   * Repeated log lines (same level and message) kept per minute, the rest summarised (default 50;
   * false: no limit).
   */
  logLinesPerMinute?: number | false;
  /** Log and survive uncaught exceptions and unhandled rejections while running (default true). */
  catchUncaught?: boolean;
  spool?: { maxReports?: number; maxBytes?: number };
  /** fsync state and spool writes (default true). */
  fsync?: boolean;
}

/** The running agent. */
export interface RunningAgent {
  readonly hostId: string;
  readonly stateDir: string;
  /** The first agent channel URL, normalized. */
  readonly url: string;
  /** Every agent channel URL, normalized, in the order they are tried. */
  readonly urls: readonly string[];
  /** Clean stop: socket closed with 1000, spool and state flushed. */
  stop(): Promise<void>;
  /** Collects now (all collectors, or those named like `categories`) and reports what changed. */
  collectNow(categories?: readonly string[]): Promise<void>;
  status(): AgentStatus;
  /** Settles with the reason when the agent cannot go on (the host was retired); never rejects. */
  readonly terminated: Promise<HostRetiredError>;
}

/**
 * The aggregator retired this host (close 4013, `DELETE /api/v1/hosts/:id`): no retry can
 * succeed, so the daemon stops instead of reconnecting forever (a service manager would
 * otherwise restart-loop it). The message carries the aggregator's reason.
 */
export class HostRetiredError extends EnvparityError {
  constructor(hostId: string, reason: string) {
    super(
      'HOST_RETIRED',
      `the aggregator retired host ${hostId}${reason ? ` (${reason})` : ''}: this agent stops; enroll under a new host id (--host-id) with a fresh state dir to report again`,
    );
  }
}

/** Neither a token in the state dir nor an enroll secret: the agent cannot ever connect. */
export class NotEnrolledError extends EnvparityError {
  constructor(stateDir: string, detail?: string) {
    super(
      'NOT_ENROLLED',
      `${detail ? `${detail}; ` : ''}no usable agent token in ${stateDir} and no enroll secret: pass --enroll-secret or set ENVPARITY_ENROLL_SECRET`,
    );
  }
}

/**
 * Starts the agent daemon: loads the state dir (token, fleet key, acknowledged state, spool),
 * connects to the aggregator (enrolling first when needed), collects, watches and reports until
 * stop(). Rejects only for problems a retry cannot fix: bad config, unusable state dir, no way to enroll.
 */
export async function startAgent(options: StartAgentOptions = {}): Promise<RunningAgent> {
  const config = validateAgentConfig(options.config ?? {}, 'config');
  const urls = agentChannelUrls(options.aggregator ?? config.aggregator);
  // Before anything touches the network or the state dir: plain ws:// off this host, a bad CA file.
  const endpoints: AggregatorEndpoint[] = [];
  for (const url of urls) {
    assertSecureTransport(url, config.allowInsecure);
    endpoints.push({ url, tls: await loadClientTlsOptions(url, config.tls) });
  }
  const stateDir = options.stateDir ?? config.stateDir ?? defaultStateDir();
  const hostId = options.hostId ?? config.hostId ?? (await defaultHostId(hostFsFor(config)));
  checkIdentity(config, hostId);
  const baseLogger = options.logger ?? createAgentLogger(options.logLevel ?? config.logLevel);
  const logger =
    options.logLinesPerMinute === false
      ? baseLogger
      : rateLimitLogs(baseLogger, { perWindow: options.logLinesPerMinute ?? DEFAULT_LOG_LINES_PER_MINUTE });
  await ensureStateDir(stateDir);
  let invalidCredentials: string | undefined;
  const credentials = await readCredentials(stateDir, (reason) => {
    invalidCredentials = reason;
  });
  if (!credentials && !options.enrollSecret) throw new NotEnrolledError(stateDir, invalidCredentials);
  if (options.enrollSecret && options.enrollSecret.length > MAX_TOKEN_LENGTH) {
    throw new ConfigError(`enroll secret: at most ${MAX_TOKEN_LENGTH} characters`, 'enrollSecret');
  }
  if (invalidCredentials) logger.warn({ reason: invalidCredentials }, 'agent token discarded: re-enrolling');
  // `verify` and `baseline` run beside this daemon report under the same host id and environment.
  await saveAgentIdentity(
    stateDir,
    { hostId, ...(config.environment ? { environment: config.environment } : {}), labels: config.labels },
    options.fsync ?? true,
  );
  const outbox = await Outbox.open({
    stateDir,
    logger,
    ...(options.spool?.maxReports !== undefined ? { maxReports: options.spool.maxReports } : {}),
    ...(options.spool?.maxBytes !== undefined ? { maxBytes: options.spool.maxBytes } : {}),
    ...(options.fsync !== undefined ? { fsync: options.fsync } : {}),
  });
  const daemon = new AgentDaemon({
    config,
    endpoints,
    stateDir,
    hostId,
    enrollSecret: options.enrollSecret || undefined,
    credentials,
    outbox,
    logger,
    collectors: options.collectors ?? BUILTIN_COLLECTORS,
    ...pick(options, [
      'backoff',
      'stableMs',
      'tokenRejectionConfirmMs',
      'pingIntervalMs',
      'maxInFlight',
      'sendRate',
      'volatileRefreshMs',
      'drainTimeoutMs',
      'debounceMs',
      'aggregatorRequestIntervalMs',
    ] as const),
    ...(options.packageDatabases ? { triggers: { packageDatabases: options.packageDatabases } } : {}),
  });
  // No uncaught exception ends the daemon: it is logged, the connection is dropped and retried.
  const onUncaught = (error: unknown) => daemon.onUncaught(error);
  if (options.catchUncaught !== false) {
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onUncaught);
  }
  try {
    await daemon.start();
  } catch (error) {
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUncaught);
    throw error;
  }
  return {
    hostId,
    stateDir,
    url: urls[0] as string,
    urls,
    stop: async () => {
      await daemon.stop();
      process.off('uncaughtException', onUncaught);
      process.off('unhandledRejection', onUncaught);
    },
    collectNow: (categories) => daemon.collectNow(categories),
    status: () => daemon.status(),
    terminated: daemon.retired.then((reason) => new HostRetiredError(hostId, reason)),
  };
}

/** Host id, environment and labels as `hello` will carry them: rejected now, naming the field. */
function checkIdentity(config: AgentConfig, hostId: string): void {
  const result = helloMessageSchema.safeParse({
    type: 'hello',
    v: PROTOCOL_VERSION,
    token: 'check',
    hostId,
    environment: config.environment,
    labels: config.labels,
    agentVersion: AGENT_VERSION,
    lastAckedSeq: 0,
    fingerprints: {},
  });
  if (!result.success) {
    const key = result.error.issues[0]?.path.map(String).join('.');
    throw new ConfigError(`config: ${formatIssues(result.error)}`, key);
  }
}

function pick<T extends object, K extends keyof T>(source: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (source[key] !== undefined) out[key] = source[key];
  return out;
}
