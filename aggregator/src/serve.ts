/**
 * `envparity-aggregator serve`: config file + flags -> data dir, bootstrap secrets, SQLite store,
 * exceptions file, listening server; then runs until SIGINT/SIGTERM and shuts down cleanly (sockets
 * closed with 1001, buffered reports committed, database closed). SIGHUP reloads the exceptions file.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '@envparity/shared';
import type { Logger } from 'pino';
import { type Aggregator, createAggregator } from './aggregator.js';
import { ensureDataDir, resolveBootstrapSecrets } from './bootstrap-secrets.js';
import { type AggregatorConfigFile, loadAggregatorConfig, resolveServeConfig, type ServeConfig } from './config.js';
import { StartupError } from './errors.js';
import { createExceptionsFileLoader } from './exceptions-file.js';
import { enrollSecretProblem } from './ingest/enrollment-policy.js';
import { announcer, createLogger } from './logger.js';
import { loadTlsCredentials, type TlsCredentials } from './tls.js';

/**
 * The PostgreSQL connection of config `store`: the password from the URL, else the first line of
 * `passwordFile` (relative to the config file), else node-postgres reads `PGPASSWORD` itself.
 */
async function postgresConnection(
  store: NonNullable<ServeConfig['store']>,
  configFile: string | undefined,
): Promise<{ connectionString: string; password?: string }> {
  if (store.passwordFile === undefined) return { connectionString: store.url };
  const file = resolve(configFile ? dirname(configFile) : '.', store.passwordFile);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new ConfigError(
      `store.passwordFile: cannot read ${file}: ${(cause as Error).message}`,
      'store.passwordFile',
      {
        cause,
      },
    );
  }
  const password = text.split(/\r?\n/)[0] ?? '';
  if (password === '') throw new ConfigError(`store.passwordFile: ${file} is empty`, 'store.passwordFile');
  return { connectionString: store.url, password };
}

/** The database file inside the data dir. */
export const DB_FILE = 'envparity.db';

export interface ServeOptions {
  configFile?: string;
  /** Flag values; they override the config file. */
  flags?: Partial<AggregatorConfigFile>;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
}

export interface RunningAggregator {
  aggregator: Aggregator;
  config: ServeConfig;
  url: string;
  port: number;
  logger: Logger;
  /** The exceptions file, resolved (relative to the config file's dir), if configured. */
  exceptionsFile: string | undefined;
  /** Reloads the exceptions file (what SIGHUP does): false when it failed (previous set kept, error logged). */
  reloadExceptions(): Promise<boolean>;
}

/** Resolves the config, prepares the data dir and secrets, and starts listening. */
export async function startAggregator({
  configFile,
  flags = {},
  env = process.env,
  logger,
}: ServeOptions = {}): Promise<RunningAggregator> {
  const file = configFile ? await loadAggregatorConfig(configFile) : {};
  // `--store` first, then ENVPARITY_STORE_URL, then the file's `store.url`.
  const envStore =
    flags.store === undefined && env.ENVPARITY_STORE_URL ? { store: { url: env.ENVPARITY_STORE_URL } } : {};
  const config = resolveServeConfig(file, { ...flags, ...envStore });
  const log = logger ?? createLogger(config.logLevel);
  const announce = announcer(log);
  try {
    await ensureDataDir(config.data);
  } catch (cause) {
    throw new StartupError(`cannot create the data dir ${config.data}: ${(cause as Error).message}`, { cause });
  }
  // Checked before anything is created or listens: a bad certificate or key is exit 2 at once.
  const tls = await loadServeTls(config, configFile);
  if (tls) {
    announce.info(
      { subject: tls.subject, validTo: tls.validTo, fingerprint256: tls.fingerprint256 },
      'TLS: serving HTTPS and WSS (agents may pin this fingerprint with --server-fingerprint)',
    );
    if (tls.expired) log.warn({ validTo: tls.validTo }, 'TLS: the certificate has expired: agents will refuse it');
  }
  const secrets = await resolveBootstrapSecrets(config.data, { env, logger: announce });
  // Refused before anything listens: a guessable enroll secret lets anyone join the fleet.
  const weakSecret = enrollSecretProblem(secrets.enrollSecret.value, config.insecureDev);
  if (weakSecret) throw new ConfigError(weakSecret, 'enrollSecret');
  if (config.insecureDev) {
    log.warn({}, 'insecure dev mode: weak enroll secrets are accepted; never run a real fleet like this');
  }
  const postgres = config.store ? await postgresConnection(config.store, configFile) : undefined;
  const aggregator = createAggregator({
    dbPath: join(config.data, DB_FILE),
    ...(postgres ? { postgres } : {}),
    host: config.host,
    port: config.port,
    enrollSecret: secrets.enrollSecret.value,
    adminToken: secrets.adminToken.value,
    fleetKey: secrets.fleetKey.value,
    heartbeatSeconds: config.heartbeatSeconds,
    classes: config.classes,
    promotion: config.promotion,
    comparePairs: config.comparePairs,
    webhooks: config.webhooks,
    rateLimit: config.rateLimit,
    enrollmentPolicy: {
      mode: config.enrollment.mode,
      maxPending: config.enrollment.maxPending,
      maxEnvironments: config.enrollment.maxEnvironments,
      pendingRetrySeconds: config.enrollment.pendingRetrySeconds,
    },
    enrollmentLimits: {
      maxFailures: config.enrollment.maxFailures,
      failureWindowMs: config.enrollment.failureWindowMs,
      lockoutMs: config.enrollment.lockoutMs,
      perSecond: config.enrollment.perSecond,
      burst: config.enrollment.burst,
    },
    maxClockSkewMs: config.maxClockSkewMs,
    ...(config.driftGroupWindowMs !== undefined ? { driftGroupWindowMs: config.driftGroupWindowMs } : {}),
    presenceTiming: config.presence,
    environments: config.environments,
    secretPolicy: config.secretPolicy,
    ...(config.maxChangesPerHost !== undefined ? { maxChangesPerHost: config.maxChangesPerHost } : {}),
    changeRetentionSeconds: config.retention.changesSeconds,
    ...(config.maxPathsPerHost !== undefined ? { maxPathsPerHost: config.maxPathsPerHost } : {}),
    ...(config.storeSynchronous !== undefined ? { storeSynchronous: config.storeSynchronous } : {}),
    ...(tls ? { tls: { cert: tls.cert, key: tls.key } } : {}),
    http: config.http,
    logger: log,
    announceLogger: announce,
  });
  const exceptionsFile =
    config.exceptionsFile === undefined
      ? undefined
      : resolve(configFile ? dirname(configFile) : '.', config.exceptionsFile);
  const exceptions = createExceptionsFileLoader({
    file: exceptionsFile,
    exceptions: aggregator.commands,
    known: aggregator.queries.catalog,
    logger: log,
  });
  try {
    await exceptions.load();
    const { url, port } = await aggregator.start();
    return { aggregator, config, url, port, logger: log, exceptionsFile, reloadExceptions: () => exceptions.reload() };
  } catch (error) {
    await aggregator.stop();
    throw error;
  }
}

/** The TLS files of the config (relative to the config file's dir, flags to the working dir), loaded and checked. */
async function loadServeTls(config: ServeConfig, configFile: string | undefined): Promise<TlsCredentials | undefined> {
  if (!config.tls) return undefined;
  const base = configFile ? dirname(configFile) : '.';
  return loadTlsCredentials({ cert: resolve(base, config.tls.cert), key: resolve(base, config.tls.key) });
}

/** Resolves when SIGINT or SIGTERM arrives (and stops listening for them). */
export function waitForShutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/** Runs the aggregator until a shutdown signal; resolves with the exit code (0 after a clean stop). */
export async function serveUntilSignal(options: ServeOptions = {}): Promise<number> {
  const running = await startAggregator(options);
  const onHangup = () => {
    running.logger.info({ file: running.exceptionsFile }, 'SIGHUP: reloading the exceptions file');
    void running.reloadExceptions();
  };
  process.on('SIGHUP', onHangup);
  const signal = await waitForShutdownSignal();
  process.off('SIGHUP', onHangup);
  running.logger.info({ signal }, 'shutting down');
  await running.aggregator.stop();
  running.logger.flush();
  return 0;
}
