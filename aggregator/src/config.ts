/**
 * The aggregator config file (YAML or JSON) and how it merges with flags. Unknown keys and bad
 * values are rejected with a message naming the key, so a typo never silently changes behavior.
 */
import { readFile } from 'node:fs/promises';
import {
  ConfigError,
  classRuleSchema,
  compilePathGlob,
  DEFAULT_MAX_CLOCK_SKEW_MS,
  environmentNameSchema,
  LOG_LEVELS,
  type LogLevel,
  parseConfigText,
  validateConfigDocument,
} from '@envparity/shared';
import { z } from 'zod';
import { DEFAULT_MAX_BODY_BYTES } from './http/body-limits.js';
import { DEFAULT_MAX_CONNECTIONS_PER_ADDRESS } from './http/connection-guard.js';
import {
  DEFAULT_ENROLL_BURST,
  DEFAULT_ENROLL_FAILURE_WINDOW_MS,
  DEFAULT_ENROLL_LOCKOUT_MS,
  DEFAULT_ENROLL_MAX_FAILURES,
  DEFAULT_ENROLL_PER_SECOND,
} from './ingest/enrollment-guard.js';
import { DEFAULT_ENROLLMENT_POLICY, ENROLLMENT_MODES, type EnrollmentPolicy } from './ingest/enrollment-policy.js';

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 7300;
/** Relative to the working directory: a first run needs no root and no setup. */
export const DEFAULT_DATA_DIR = 'envparity-data';
export const DEFAULT_LOG_LEVEL = 'info';
/** How often the aggregator pings agents, and the heartbeat interval it asks agents for. */
export const DEFAULT_HEARTBEAT_SECONDS = 30;
/** Messages per second each agent socket may send on average... */
export const DEFAULT_RATE_PER_SECOND = 50;
/** ...and in one burst (a reconnecting agent replays its spool at once). */
export const DEFAULT_RATE_BURST = 200;
/** An offline host keeps counting in its environment's baseline for this long (a restart is not a change). */
export const DEFAULT_PRESENCE_GRACE_SECONDS = 900;
/** An offline host is retired from lists after this long; its history is kept. */
export const DEFAULT_PRESENCE_RETIRE_AFTER_SECONDS = 7 * 24 * 3600;
/** Changes are kept this long (config `retention.changes`), then folded into the host's initial state. */
export const DEFAULT_CHANGE_RETENTION_SECONDS = 400 * 24 * 3600;
/** Shortest `retention.changes`: time travel, the change feed and promotion tracking read at least a day back. */
export const MIN_CHANGE_RETENTION_SECONDS = 24 * 3600;

/** HTTP limits as the server applies them. */
export interface HttpLimits {
  maxBodyBytes: number;
  /** A client must have sent its whole request head within this time (slow headers hold sockets). */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  /** Concurrent sockets per remote address; loopback is exempt (the fleet simulator, local agents). */
  maxConnectionsPerAddress: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  maxConnectionsPerAddress: DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
};

/** The one list of log levels, shared with the agent (kept exported here for the aggregator's callers). */
export { LOG_LEVELS, type LogLevel };

const environmentName = environmentNameSchema;

/** A duration: seconds as a number, or a string such as `90s`, `15m`, `12h`, `7d`. */
export const durationSecondsSchema = z.union([
  z.number().positive(),
  z
    .string()
    .regex(/^\d+(\.\d+)?\s*(s|m|h|d|w)?$/, 'a duration is a number of seconds or e.g. 90s, 15m, 12h, 7d, 2w')
    .transform((text) => {
      const match = /^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)?$/.exec(text) as RegExpExecArray;
      const unit = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }[(match[2] ?? 's') as 's'];
      return Number(match[1]) * unit;
    }),
]);

export const secretPolicySchema = z
  .strictObject({
    /** Path glob of the secret facts this policy covers (e.g. `config.env.DB_PASSWORD`). */
    glob: z.string().min(1),
    /** `differ`: equal hashes across environments are the finding; `equal`: different hashes are. */
    expect: z.enum(['differ', 'equal']),
  })
  .superRefine((rule, ctx) => {
    try {
      compilePathGlob(rule.glob);
    } catch (error) {
      ctx.addIssue({ code: 'custom', path: ['glob'], message: (error as Error).message });
    }
  });

const classOverrideSchema = classRuleSchema.superRefine((rule, ctx) => {
  try {
    compilePathGlob(rule.glob);
  } catch (error) {
    ctx.addIssue({ code: 'custom', path: ['glob'], message: (error as Error).message });
  }
});

export const webhookConfigSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  /** Key of the HMAC signature header; kept in the config file only, never in the database. */
  secret: z.string().min(1).optional(),
  events: z.array(z.string().min(1)).optional(),
});

/** A PostgreSQL connection URL; its text (which may hold a password) is never echoed in an error. */
export const postgresUrlSchema = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'not a URL (expected postgres://user@host:port/database)' });
    return;
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    ctx.addIssue({ code: 'custom', message: `expected a postgres:// or postgresql:// URL, got ${url.protocol}//` });
  }
});

export const aggregatorConfigSchema = z.strictObject({
  host: z.string().min(1).optional(),
  port: z.number().int().min(0).max(65_535).optional(),
  data: z.string().min(1).optional(),
  logLevel: z.enum(LOG_LEVELS).optional(),
  heartbeatSeconds: z.number().positive().max(3600).optional(),
  /** Promotion order, upstream first (e.g. dev, staging, production); used by the drift engine. */
  promotion: z
    .array(environmentName)
    .refine((names) => new Set(names).size === names.length, 'environment names must be unique')
    .optional(),
  /**
   * Environment pairs compared by the drift engine besides the promotion neighbours (e.g. a
   * preview environment with staging). Nothing else is: never all N² pairs.
   */
  comparePairs: z
    .array(z.tuple([environmentName, environmentName]))
    .refine((pairs) => pairs.every(([a, b]) => a !== b), 'a pair must name two different environments')
    .refine(
      (pairs) => new Set(pairs.map(([a, b]) => (a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`))).size === pairs.length,
      'pairs must be unique (in either order)',
    )
    .optional(),
  /** Class overrides, tried before the default rules (first match wins). */
  classes: z.array(classOverrideSchema).optional(),
  webhooks: z.array(webhookConfigSchema).optional(),
  rateLimit: z
    .strictObject({
      perSecond: z.number().positive().max(100_000),
      burst: z.number().int().min(1).max(1_000_000),
    })
    .optional(),
  /** Environments declared ahead of any host (the promotion order declares its own too). */
  environments: z
    .array(environmentName)
    .refine((names) => new Set(names).size === names.length, 'environment names must be unique')
    .optional(),
  /** How offline hosts count: in the baseline for `graceSeconds`, retired after `retireAfter`. */
  presence: z
    .strictObject({
      graceSeconds: durationSecondsSchema.optional(),
      retireAfter: durationSecondsSchema.optional(),
    })
    .optional(),
  /** Exceptions file (YAML or JSON), loaded at start and on SIGHUP; relative to the config file. */
  exceptions: z.string().min(1).optional(),
  /** Per-glob expectation for secret facts across environments. */
  secretPolicy: z.array(secretPolicySchema).optional(),
  /** HTTPS and WSS on the same port: PEM certificate (chain) and unencrypted PEM key; relative to the config file. */
  tls: z.strictObject({ cert: z.string().min(1), key: z.string().min(1) }).optional(),
  /** HTTP limits: request body size, header/request timeouts, concurrent sockets per address. */
  http: z
    .strictObject({
      maxBodyBytes: z
        .number()
        .int()
        .min(1024)
        .max(1024 * 1024 * 1024)
        .optional(),
      headersTimeout: durationSecondsSchema.optional(),
      requestTimeout: durationSecondsSchema.optional(),
      maxConnectionsPerAddress: z.number().int().min(1).max(1_000_000).optional(),
    })
    .optional(),
  /** Per-host quota of change rows; older changes are folded into the host's initial state. */
  maxChangesPerHost: z.number().int().min(100).max(100_000_000).optional(),
  /** How long history is kept: changes older than `changes` (default 400d) are folded into a state snapshot. */
  retention: z
    .strictObject({
      changes: durationSecondsSchema
        .refine((seconds) => seconds >= MIN_CHANGE_RETENTION_SECONDS, 'must be at least 1d')
        .optional(),
    })
    .optional(),
  /** Paths one host may hold over all categories (default 200000); a report past it is refused with 4002. */
  maxPathsPerHost: z.number().int().min(1).max(10_000_000).optional(),
  /** `full`: an acknowledged report survives a power loss (fsync per commit); `normal`: a process crash only. */
  storeSynchronous: z.enum(['full', 'normal']).optional(),
  /** Who may join: approval mode, caps, and the rate limits on wrong secrets and enrollment storms. */
  enrollment: z
    .strictObject({
      /** `open` (default): the enroll secret is enough; `approve`: new hosts wait for an admin. */
      mode: z.enum(ENROLLMENT_MODES as [string, ...string[]]).optional(),
      maxPending: z.number().int().min(1).max(1_000_000).optional(),
      maxEnvironments: z.number().int().min(1).max(1_000_000).optional(),
      /** How long an agent waiting for approval waits between hellos (default 30s). */
      pendingRetry: durationSecondsSchema.optional(),
      /** Wrong secrets from one address within `failureWindow` before it is locked out for `lockout`. */
      maxFailures: z.number().int().min(1).max(1_000_000).optional(),
      failureWindow: durationSecondsSchema.optional(),
      lockout: durationSecondsSchema.optional(),
      /** Fleet-wide enrollments per second, and the burst above it. */
      perSecond: z.number().positive().max(1_000_000).optional(),
      burst: z.number().int().min(1).max(10_000_000).optional(),
    })
    .optional(),
  /** Agent clocks further than this from the server's are clamped and flagged `clockSkewMs` (default 1d). */
  clockSkew: durationSecondsSchema.optional(),
  /** How long a new drift event waits for the other hosts of its cause before it is sent (default 10s). */
  driftGroupWindow: durationSecondsSchema.optional(),
  /** A throwaway local setup: allows an enroll secret shorter than 16 characters. Never in production. */
  insecureDev: z.boolean().optional(),
  /**
   * Where the data is kept: absent, the embedded SQLite file in `data`; `url: postgres://...` for a
   * PostgreSQL database several aggregators may share (store/postgres/).
   */
  store: z
    .strictObject({
      url: postgresUrlSchema,
      /** A file holding the password (first line), when the URL has none; else `PGPASSWORD`. */
      passwordFile: z.string().min(1).optional(),
    })
    .optional(),
});
export type AggregatorConfigFile = z.infer<typeof aggregatorConfigSchema>;
export type WebhookConfig = z.infer<typeof webhookConfigSchema>;

/** The effective settings: file values, then flags on top, then defaults. */
export interface ServeConfig {
  host: string;
  port: number;
  data: string;
  logLevel: LogLevel;
  heartbeatSeconds: number;
  promotion: string[];
  /** Pairs compared besides the promotion neighbours (config `comparePairs`). */
  comparePairs: [string, string][];
  classes: z.infer<typeof classRuleSchema>[];
  webhooks: WebhookConfig[];
  rateLimit: { perSecond: number; burst: number };
  /** Declared environments: `promotion` first, then `environments`, without repeats. */
  environments: string[];
  presence: { graceSeconds: number; retireAfterSeconds: number };
  /** Exceptions file path as written in the config (resolved by the caller), if any. */
  exceptionsFile: string | undefined;
  secretPolicy: SecretPolicyRule[];
  /** Certificate and key files as written (resolved by the caller, like `exceptionsFile`), when serving TLS. */
  tls: { cert: string; key: string } | undefined;
  http: HttpLimits;
  /** Store options (store/sqlite-fact-store.ts defaults when unset). */
  maxChangesPerHost: number | undefined;
  /** Config `retention`: changes are kept `changesSeconds`, then folded into the host's initial state. */
  retention: { changesSeconds: number };
  maxPathsPerHost: number | undefined;
  storeSynchronous: 'full' | 'normal' | undefined;
  enrollment: EnrollmentPolicy & EnrollmentRateLimits;
  maxClockSkewMs: number;
  /** Config `driftGroupWindow` in ms, undefined for the drift engine's default. */
  driftGroupWindowMs: number | undefined;
  insecureDev: boolean;
  /** Config `store`: a PostgreSQL database, or undefined for the SQLite file in `data`. */
  store: { url: string; passwordFile: string | undefined } | undefined;
}

/** The enrollment guard's limits (ingest/enrollment-guard.ts), as the config sets them. */
export interface EnrollmentRateLimits {
  maxFailures: number;
  failureWindowMs: number;
  lockoutMs: number;
  perSecond: number;
  burst: number;
}
export type SecretPolicyRule = z.infer<typeof secretPolicySchema>;

/** Validates an already-parsed config object; ConfigError names the first offending key. */
export function validateAggregatorConfig(input: unknown, source = 'config'): AggregatorConfigFile {
  return validateConfigDocument(aggregatorConfigSchema, input, source);
}

/** Parses config text (YAML 1.2, which also reads JSON) and validates it. */
export function parseAggregatorConfig(text: string, source = 'config'): AggregatorConfigFile {
  return validateAggregatorConfig(parseConfigText(text, source), source);
}

/** Reads and validates a config file. */
export async function loadAggregatorConfig(file: string): Promise<AggregatorConfigFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new ConfigError(`${file}: cannot read: ${(cause as Error).message}`, undefined, { cause });
  }
  return parseAggregatorConfig(text, file);
}

/** Flags (already validated by the CLI) override the file; anything unset takes its default. */
export function resolveServeConfig(
  file: AggregatorConfigFile = {},
  flags: Partial<AggregatorConfigFile> = {},
): ServeConfig {
  // A `--store` URL keeps the file's `store.passwordFile`.
  const store = file.store && flags.store ? { store: { ...file.store, ...flags.store } } : {};
  const merged = validateAggregatorConfig({ ...file, ...stripUndefined(flags), ...store }, 'flags');
  return {
    host: merged.host ?? DEFAULT_HOST,
    port: merged.port ?? DEFAULT_PORT,
    data: merged.data ?? DEFAULT_DATA_DIR,
    logLevel: merged.logLevel ?? DEFAULT_LOG_LEVEL,
    heartbeatSeconds: merged.heartbeatSeconds ?? DEFAULT_HEARTBEAT_SECONDS,
    promotion: merged.promotion ?? [],
    comparePairs: merged.comparePairs ?? [],
    classes: merged.classes ?? [],
    webhooks: merged.webhooks ?? [],
    rateLimit: merged.rateLimit ?? { perSecond: DEFAULT_RATE_PER_SECOND, burst: DEFAULT_RATE_BURST },
    environments: [...new Set([...(merged.promotion ?? []), ...(merged.environments ?? [])])],
    presence: {
      graceSeconds: merged.presence?.graceSeconds ?? DEFAULT_PRESENCE_GRACE_SECONDS,
      retireAfterSeconds: merged.presence?.retireAfter ?? DEFAULT_PRESENCE_RETIRE_AFTER_SECONDS,
    },
    exceptionsFile: merged.exceptions,
    secretPolicy: merged.secretPolicy ?? [],
    tls: merged.tls,
    http: {
      maxBodyBytes: merged.http?.maxBodyBytes ?? DEFAULT_HTTP_LIMITS.maxBodyBytes,
      headersTimeoutMs: (merged.http?.headersTimeout ?? DEFAULT_HTTP_LIMITS.headersTimeoutMs / 1000) * 1000,
      requestTimeoutMs: (merged.http?.requestTimeout ?? DEFAULT_HTTP_LIMITS.requestTimeoutMs / 1000) * 1000,
      maxConnectionsPerAddress: merged.http?.maxConnectionsPerAddress ?? DEFAULT_HTTP_LIMITS.maxConnectionsPerAddress,
    },
    maxChangesPerHost: merged.maxChangesPerHost,
    retention: { changesSeconds: merged.retention?.changes ?? DEFAULT_CHANGE_RETENTION_SECONDS },
    maxPathsPerHost: merged.maxPathsPerHost,
    storeSynchronous: merged.storeSynchronous,
    enrollment: {
      mode: (merged.enrollment?.mode as EnrollmentPolicy['mode'] | undefined) ?? DEFAULT_ENROLLMENT_POLICY.mode,
      maxPending: merged.enrollment?.maxPending ?? DEFAULT_ENROLLMENT_POLICY.maxPending,
      maxEnvironments: merged.enrollment?.maxEnvironments ?? DEFAULT_ENROLLMENT_POLICY.maxEnvironments,
      pendingRetrySeconds: Math.max(
        1,
        Math.round(merged.enrollment?.pendingRetry ?? DEFAULT_ENROLLMENT_POLICY.pendingRetrySeconds),
      ),
      maxFailures: merged.enrollment?.maxFailures ?? DEFAULT_ENROLL_MAX_FAILURES,
      failureWindowMs: secondsToMs(merged.enrollment?.failureWindow) ?? DEFAULT_ENROLL_FAILURE_WINDOW_MS,
      lockoutMs: secondsToMs(merged.enrollment?.lockout) ?? DEFAULT_ENROLL_LOCKOUT_MS,
      perSecond: merged.enrollment?.perSecond ?? DEFAULT_ENROLL_PER_SECOND,
      burst: merged.enrollment?.burst ?? DEFAULT_ENROLL_BURST,
    },
    maxClockSkewMs: secondsToMs(merged.clockSkew) ?? DEFAULT_MAX_CLOCK_SKEW_MS,
    driftGroupWindowMs: secondsToMs(merged.driftGroupWindow),
    insecureDev: merged.insecureDev ?? false,
    store: merged.store ? { url: merged.store.url, passwordFile: merged.store.passwordFile } : undefined,
  };
}

function secondsToMs(seconds: number | undefined): number | undefined {
  return seconds === undefined ? undefined : Math.round(seconds * 1000);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
