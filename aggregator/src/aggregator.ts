/**
 * The aggregator as a library: one process, one port, HTTP API (Hono on @hono/node-server) and the
 * agent WebSocket channel (`ws`, noServer, on the same server's `upgrade` event), over one fact
 * store. Tests use `app.request()` on a `:memory:` store without starting anything, or `start()` on
 * port 0 for real sockets; the CLI's `serve` is a thin wrapper around this.
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { type ClassRule, type DeclaredClassRule, MAX_FRAME_BYTES, type SecretPolicyRule } from '@envparity/shared';
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';
import pino, { type Logger } from 'pino';
import { ClassRegistry } from './classes/class-registry.js';
import type { AgentCommands } from './cluster/cluster-agents.js';
import { ClusterNode } from './cluster/cluster-node.js';
import { checkSharedFleetKey } from './cluster/shared-fleet-key.js';
import {
  DEFAULT_HEARTBEAT_SECONDS,
  DEFAULT_HOST,
  DEFAULT_HTTP_LIMITS,
  DEFAULT_PORT,
  DEFAULT_RATE_BURST,
  DEFAULT_RATE_PER_SECOND,
  type HttpLimits,
  type WebhookConfig,
} from './config.js';
import { DriftEngine, type PresenceSource } from './drift/drift-engine.js';
import type { DriftEvents } from './drift/events.js';
import { StartupError } from './errors.js';
import type { ApiEnv } from './http/api-auth.js';
import { createApiAuthenticator } from './http/api-auth.js';
import type { ApiRouter } from './http/api-router.js';
import { limitConnectionsPerAddress } from './http/connection-guard.js';
import { createApiApp } from './http/create-app.js';
import { AgentGateway } from './ingest/agent-gateway.js';
import type { EnrollmentGuardOptions } from './ingest/enrollment-guard.js';
import type { EnrollmentPolicy } from './ingest/enrollment-policy.js';
import { warmUpIngest } from './ingest/warm-up.js';
import { type AggregatorMetrics, createAggregatorMetrics } from './metrics/aggregator-metrics.js';
import type { FleetCommands } from './queries/fleet-commands.js';
import type { FleetQueries } from './queries/fleet-queries.js';
import type { HistoryQueries } from './queries/history-queries.js';
import { readDeclaredClasses } from './store/declared-class-repository.js';
import type { FactStore } from './store/fact-store.js';
import { PgDeclaredClassRepository } from './store/postgres/pg-declared-class-repository.js';
import { openPostgresBridge, PostgresFactStore } from './store/postgres/postgres-fact-store.js';
import type { RepositoryFactStore } from './store/repository-fact-store.js';
import { DEFAULT_FLUSH_INTERVAL_MS, openSqliteFactStore } from './store/sqlite-fact-store.js';
import { logStoreOpenReport } from './store/store-integrity.js';
import type { FactStoreOptions } from './store/store-options.js';
import { createWebhookDispatcher, type WebhookDispatcher } from './webhooks/dispatcher.js';

/** How long `stop()` lets open HTTP requests finish before cutting their connections. */
export const DEFAULT_HTTP_CLOSE_GRACE_MS = 1000;
/**
 * Listen backlog (pending connections the kernel queues before `accept()`). Node's default is 511,
 * which a reconnect storm of thousands of agents overflows while a transaction runs; the kernel
 * caps it at `net.core.somaxconn`.
 */
export const DEFAULT_LISTEN_BACKLOG = 4096;

export interface AggregatorOptions {
  /** SQLite file; `:memory:` (the default) for tests. Ignored when `store` or `postgres` is given. */
  dbPath?: string;
  /**
   * Keep the data in this PostgreSQL database instead (config `store.url`); ignored when `store` is
   * given. Several aggregators may share one database (cluster/cluster-node.ts); `cluster` shortens
   * its election and presence intervals (tests).
   */
  postgres?: {
    connectionString: string;
    password?: string;
    cluster?: { electionIntervalMs?: number; presenceIntervalMs?: number; nodeStaleMs?: number };
  };
  /** A ready store (e.g. another FactStore implementation); the aggregator closes it on stop. */
  store?: FactStore;
  host?: string;
  /** 0 picks a free port; `start()` returns the actual one. */
  port?: number;
  /** Clear enroll secret; without one every enroll is refused (4011). */
  enrollSecret?: string;
  /** Clear bootstrap admin API token; without one only tokens from the store authenticate. */
  adminToken?: string;
  /** HMAC key for secret values handed to agents; a random one when absent (fine for tests only). */
  fleetKey?: string;
  heartbeatSeconds?: number;
  /** Fact class overrides, tried before the default rules. */
  classes?: readonly ClassRule[];
  /** Promotion order of environments, upstream first (for the drift engine). */
  promotion?: readonly string[];
  /** Config `comparePairs`: pairs the drift engine compares besides the promotion neighbours. */
  comparePairs?: readonly (readonly [string, string])[];
  /** Environments declared ahead of any host (config `promotion` then `environments:`): listed, nameable. */
  environments?: readonly string[];
  /** Config `secretPolicy`: secret paths whose hashes should differ (or be equal) across environments. */
  secretPolicy?: readonly SecretPolicyRule[];
  /** Webhooks receiving drift events (config `webhooks`). */
  webhooks?: readonly WebhookConfig[];
  /** Quiet time after a commit before the drift engine re-evaluates (default 250 ms). */
  driftDebounceMs?: number;
  /** How often exception expiries are looked for (default 10 s; reads look too). */
  exceptionCheckMs?: number;
  /**
   * Config `presence`: an offline host keeps counting in its environment's baseline for
   * `graceSeconds` (default 900), and is retired after `retireAfterSeconds` (default 7 days).
   */
  presenceTiming?: { graceSeconds?: number; retireAfterSeconds?: number };
  /** How long a new drift event waits for the other hosts of its cause (default 10 s). */
  driftGroupWindowMs?: number;
  /** Who is online; the agent gateway by default (tests pass a stand-in). */
  presence?: PresenceSource;
  rateLimit?: { perSecond: number; burst: number };
  /** Approval mode and the pending / environment caps (config `enrollment:`; open mode by default). */
  enrollmentPolicy?: EnrollmentPolicy;
  /** Wrong-secret lockout and the fleet-wide enrollment rate (config `enrollment:`; DEFAULT_ENROLL_*). */
  enrollmentLimits?: EnrollmentGuardOptions;
  /** Agent clocks this far from the server's are clamped and flagged (config `clockSkew`, default 1 day). */
  maxClockSkewMs?: number;
  maxFrameBytes?: number;
  /** How long a new socket may take to authenticate (hello) before it is closed. */
  helloTimeoutMs?: number;
  flushIntervalMs?: number;
  /** Store: per-host quota of change rows (config `maxChangesPerHost`, default 100000). */
  maxChangesPerHost?: number;
  /** Store: changes are kept this long, then folded (config `retention.changes`, default 400 days; null: no time limit). */
  changeRetentionSeconds?: number | null;
  /** Store: paths one host may hold (config `maxPathsPerHost`, default 200000). */
  maxPathsPerHost?: number;
  /** Store: `full` (default) fsyncs every commit before its acks; `normal` survives process crashes only. */
  storeSynchronous?: 'full' | 'normal';
  /** Listen backlog (default DEFAULT_LISTEN_BACKLOG). */
  listenBacklog?: number;
  /** PEM certificate (chain) and key: HTTPS and WSS on the same port (see tls.ts loadTlsCredentials). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Body size, header/request timeouts and the per-address socket cap (DEFAULT_HTTP_LIMITS). */
  http?: Partial<HttpLimits>;
  logger?: Logger;
  /** Logger for lines that are printed whatever the level (the `listening` line). Defaults to `logger`. */
  announceLogger?: Logger;
  now?: () => number;
}

export interface Aggregator {
  readonly app: Hono<ApiEnv>;
  readonly store: FactStore;
  readonly gateway: AgentGateway;
  readonly metrics: AggregatorMetrics;
  /** Baselines, outliers, drift events; `drift.events.on()` to follow them, `drift.settle()` in tests. */
  readonly drift: DriftEngine;
  /** Shorthand for `drift.events`. */
  readonly events: DriftEvents;
  /** Every API route with its schemas (the OpenAPI document's source). */
  readonly routes: ApiRouter;
  /** The read side every route uses: environments, baselines, compare, hosts, drift events, exceptions. */
  readonly queries: FleetQueries;
  /** Writes the drift engine must hear of (exceptions, the exceptions file). */
  readonly commands: FleetCommands;
  /** Time travel and the environment-wide change feed. */
  readonly history: HistoryQueries;
  /** Present on PostgreSQL: this aggregator among the others on the same database. */
  readonly cluster: ClusterNode | undefined;
  /** Present when webhooks are configured. */
  readonly webhooks: WebhookDispatcher | undefined;
  /** The classifier with its layers: config overrides, declared probe classes, defaults. */
  readonly classes: ClassRegistry;
  readonly promotion: readonly string[];
  /** Listens on host:port; resolves with the URL actually bound (port 0 picks one). */
  start(): Promise<{ url: string; port: number }>;
  /** Closes agent sockets (1001), stops the HTTP server, flushes and closes the store. */
  stop(): Promise<void>;
}

function formatUrl(host: string, port: number, secure = false): string {
  return `${secure ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export function createAggregator(options: AggregatorOptions = {}): Aggregator {
  const logger = options.logger ?? pino({ level: 'silent' });
  const announce = options.announceLogger ?? logger;
  const httpLimits: HttpLimits = { ...DEFAULT_HTTP_LIMITS, ...options.http };
  const host = options.host ?? DEFAULT_HOST;
  const port = options.port ?? DEFAULT_PORT;
  const heartbeatSeconds = options.heartbeatSeconds ?? DEFAULT_HEARTBEAT_SECONDS;
  const now = options.now ?? Date.now;
  const dbPath = options.dbPath ?? ':memory:';
  // Migrated and connected before anything else: a wrong URL or password fails the start at once.
  const postgres =
    options.store || !options.postgres
      ? undefined
      : openPostgresBridge({
          connectionString: options.postgres.connectionString,
          ...(options.postgres.password !== undefined ? { password: options.postgres.password } : {}),
          applicationName: 'envparity-aggregator',
        });
  if (postgres && options.fleetKey !== undefined) {
    try {
      checkSharedFleetKey(postgres, options.fleetKey);
    } catch (error) {
      postgres.close();
      throw error;
    }
  }
  const cluster =
    postgres && options.postgres
      ? new ClusterNode({
          bridge: postgres,
          connectionString: options.postgres.connectionString,
          ...(options.postgres.password !== undefined ? { password: options.postgres.password } : {}),
          logger,
          ...options.postgres.cluster,
          ...(options.now ? { now: options.now } : {}),
        })
      : undefined;
  // Declared probe classes are read before the store loads its fleet state through the classifier,
  // so a restart classifies every stored path exactly as before.
  const classes = new ClassRegistry({
    overrides: options.classes ?? [],
    declared: options.store
      ? []
      : postgres
        ? new PgDeclaredClassRepository(postgres).list()
        : readDeclaredClasses(dbPath),
    logger,
    now,
  });
  const classify = classes.classify;
  // A store handed in was loaded with its own classifier: declarations then stay in memory.
  const openOwnStore = (): RepositoryFactStore => {
    const common: FactStoreOptions = {
      classify,
      flushIntervalMs: options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS,
      ...(options.maxChangesPerHost !== undefined ? { maxChangesPerHost: options.maxChangesPerHost } : {}),
      ...(options.changeRetentionSeconds !== undefined
        ? {
            changeRetentionMs:
              options.changeRetentionSeconds === null ? null : Math.round(options.changeRetentionSeconds * 1000),
          }
        : {}),
      // Retention measures its edge on the aggregator's clock.
      now,
      ...(options.maxPathsPerHost !== undefined ? { maxHostPaths: options.maxPathsPerHost } : {}),
      onListenerError: (error) =>
        logger.error({ err: { message: (error as Error)?.message } }, 'store listener failed'),
    };
    const opened = postgres
      ? new PostgresFactStore({ bridge: postgres, ...common, ...(cluster ? { signals: cluster.signals } : {}) })
      : openSqliteFactStore({
          path: dbPath,
          ...common,
          ...(options.storeSynchronous !== undefined ? { synchronous: options.storeSynchronous } : {}),
        });
    classes.persistTo(opened.declaredClasses);
    announce.info({ store: opened.location, backend: postgres ? 'postgres' : 'sqlite' }, 'store opened');
    return opened;
  };
  const store: FactStore = options.store ?? openOwnStore();

  let gateway: AgentGateway | undefined;
  const fleetKey = options.fleetKey ?? randomBytes(32).toString('base64url');
  const metrics = createAggregatorMetrics({
    connectedAgents: () => gateway?.connectedCount() ?? 0,
    hosts: () => store.listHosts().length,
    storeBytes: () => store.sizeBytes(),
    storeHostsMissing: () => store.openReport?.missingHosts ?? 0,
  });
  logStoreOpenReport(logger, store.openReport);
  // `declareClasses` reaches the sessions through AgentGatewayOptions (agent-gateway.ts forwards it).
  const gatewayOptions = {
    store,
    metrics,
    logger,
    enrollSecret: options.enrollSecret,
    fleetKey,
    heartbeatSeconds,
    rateLimit: options.rateLimit ?? { perSecond: DEFAULT_RATE_PER_SECOND, burst: DEFAULT_RATE_BURST },
    maxFrameBytes: options.maxFrameBytes ?? MAX_FRAME_BYTES,
    ...(options.enrollmentPolicy ? { enrollmentPolicy: options.enrollmentPolicy } : {}),
    ...(options.enrollmentLimits ? { enrollment: options.enrollmentLimits } : {}),
    ...(options.maxClockSkewMs !== undefined ? { maxClockSkewMs: options.maxClockSkewMs } : {}),
    ...(options.helloTimeoutMs !== undefined ? { helloTimeoutMs: options.helloTimeoutMs } : {}),
    ...(options.now ? { now: options.now } : {}),
    declareClasses: (hostId: string, rules: readonly DeclaredClassRule[]) => {
      classes.declare(hostId, rules);
    },
  };
  gateway = new AgentGateway(gatewayOptions);
  const agents = gateway;
  const clusterPresence = cluster ? cluster.presenceOver(agents, store as PostgresFactStore) : undefined;
  const presence = options.presence ?? clusterPresence ?? agents;
  // What the routes ask of sockets: forwarded to the aggregator that has the agent's socket.
  const clusterAgents = cluster && clusterPresence ? cluster.agentsOver(agents, clusterPresence) : undefined;
  const agentCommands: AgentCommands = clusterAgents ?? agents;
  const drift = new DriftEngine({
    store,
    presence,
    classify,
    promotion: options.promotion ?? [],
    comparePairs: options.comparePairs ?? [],
    now,
    logger,
    ...(options.driftDebounceMs !== undefined ? { debounceMs: options.driftDebounceMs } : {}),
    ...(options.exceptionCheckMs !== undefined ? { exceptionCheckMs: options.exceptionCheckMs } : {}),
    ...(options.presenceTiming?.graceSeconds !== undefined
      ? { presenceGraceMs: options.presenceTiming.graceSeconds * 1000 }
      : {}),
    ...(options.presenceTiming?.retireAfterSeconds !== undefined
      ? { retireAfterMs: options.presenceTiming.retireAfterSeconds * 1000 }
      : {}),
    ...(options.driftGroupWindowMs !== undefined ? { groupWindowMs: options.driftGroupWindowMs } : {}),
    ...(options.secretPolicy && options.secretPolicy.length > 0 ? { secretPolicy: options.secretPolicy } : {}),
    // On a shared database, passes start once this aggregator is elected (cluster-leadership.ts).
    leading: cluster === undefined,
  });
  if (cluster && clusterPresence && clusterAgents) {
    cluster.attach({
      store: store as PostgresFactStore,
      drift,
      gateway: agents,
      presence: clusterPresence,
      agents: clusterAgents,
    });
  }
  const webhooks =
    options.webhooks && options.webhooks.length > 0
      ? createWebhookDispatcher({ webhooks: options.webhooks, logger, now })
      : undefined;
  if (webhooks) drift.events.on((event) => webhooks.dispatch(event));
  // Values stay out of the log line (the API and webhooks carry them).
  drift.events.on((event) => {
    const { id, kind, environment, hostId, path } = event.data as Partial<Record<string, unknown>>;
    logger.info({ type: event.type, id, kind, environment, hostId, path }, 'drift event');
  });
  drift.start();
  const hostPresence = {
    isOnline: (hostId: string) => presence.isOnline(hostId),
    presenceOf: (hostId: string) => drift.presenceOf(hostId),
  };
  const { app, router, queries, commands, history } = createApiApp({
    store,
    // Host listings show the drift engine's presence phase (online, offline within the grace, lost).
    presence: hostPresence,
    metrics,
    authenticator: createApiAuthenticator({ store, adminToken: options.adminToken }),
    logger,
    drift,
    // Live: declared probe classes join the published rules as they are accepted.
    classes: classes.rules,
    fleetKey,
    agents: agentCommands,
    environments: options.environments ?? options.promotion ?? [],
    secretPolicy: options.secretPolicy ?? [],
    hsts: options.tls !== undefined,
    maxBodyBytes: httpLimits.maxBodyBytes,
    now,
  });

  let server: Server | undefined;
  let stopping: Promise<void> | undefined;

  async function start(): Promise<{ url: string; port: number }> {
    if (server) throw new StartupError('the aggregator is already started');
    if (cluster) {
      try {
        await cluster.start();
      } catch (error) {
        throw new StartupError(
          `cannot join the aggregators on ${(store as PostgresFactStore).location}: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
    }
    // Synthetic paths must not enter the registry's cache: they could contradict a later declaration.
    warmUpIngest((path) => classes.peek(path));
    const tls = options.tls;
    // Node checks header and request timeouts on this interval (default 30 s): keep it below them.
    const connectionsCheckingInterval = Math.max(250, Math.min(1000, httpLimits.headersTimeoutMs / 2));
    const listening = createAdaptorServer({
      fetch: app.fetch,
      hostname: host,
      // One port either way: the agent channel's upgrade arrives on the same (TLS) server.
      ...(tls
        ? {
            createServer: createHttpsServer,
            serverOptions: { cert: tls.cert, key: tls.key, connectionsCheckingInterval },
          }
        : { serverOptions: { connectionsCheckingInterval } }),
    }) as Server;
    listening.headersTimeout = httpLimits.headersTimeoutMs;
    listening.requestTimeout = httpLimits.requestTimeoutMs;
    limitConnectionsPerAddress(listening, {
      maxPerAddress: httpLimits.maxConnectionsPerAddress,
      onRefused: (address) =>
        logger.warn(
          { remote: address, max: httpLimits.maxConnectionsPerAddress },
          'connection refused: per-address cap',
        ),
    });
    server = listening;
    agents.attach(listening);
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => {
        listening.off('listening', onListening);
        reject(new StartupError(`cannot listen on ${host}:${port}: ${error.message}`, { cause: error }));
      };
      const onListening = () => {
        listening.off('error', onError);
        resolve();
      };
      listening.once('error', onError);
      listening.once('listening', onListening);
      listening.listen({ port, host, backlog: options.listenBacklog ?? DEFAULT_LISTEN_BACKLOG });
    });
    const actualPort = (listening.address() as AddressInfo).port;
    const url = formatUrl(host, actualPort, tls !== undefined);
    announce.info({ url, port: actualPort, agentUrl: `${url.replace(/^http/, 'ws')}/api/v1/agent` }, 'listening');
    return { url, port: actualPort };
  }

  async function stopOnce(): Promise<void> {
    await agents.close();
    if (server?.listening) {
      const closed = new Promise<void>((resolve) => server?.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server?.closeAllConnections(), DEFAULT_HTTP_CLOSE_GRACE_MS);
      timer.unref();
      await closed;
      clearTimeout(timer);
    }
    await store.flush();
    await drift.stop();
    await cluster?.stop();
    await webhooks?.close();
    await store.close();
    logger.info('stopped');
  }

  return {
    app,
    store,
    gateway: agents,
    metrics,
    drift,
    events: drift.events,
    routes: router,
    queries,
    commands,
    history,
    webhooks,
    cluster,
    classes,
    promotion: options.promotion ?? [],
    start,
    stop() {
      stopping ??= stopOnce();
      return stopping;
    },
  };
}
