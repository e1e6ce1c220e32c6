/**
 * The agent config file (YAML or JSON). Unknown keys and bad values are rejected with a message
 * naming the key, so a typo like `watch.envvars` never silently disables a watch.
 */
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { servicesSchema } from './config-services.js';
import { declarableClassSchema, PROBE_NAME } from './declared-classes.js';
import { ConfigError } from './errors.js';
import { environmentNameSchema } from './facts.js';
import { LOG_LEVELS } from './logging.js';

export const DEFAULT_SECRET_GLOBS = ['*PASSWORD*', '*SECRET*', '*TOKEN*', '*_KEY'] as const;
export const DEFAULT_INTERVAL_SECONDS = 60;
export const DEFAULT_PROBE_TIMEOUT_SECONDS = 10;
/** `watch.maxFileBytes`: watched config files are read up to this size. */
export const DEFAULT_MAX_WATCHED_FILE_BYTES = 10 * 1024 * 1024;
/** Agent and aggregator config files larger than this are refused unread. */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

const nonEmpty = z.string().min(1, 'must not be empty');
/** A SHA-256 certificate fingerprint as users paste it: 32 hex bytes, with or without colons. */
export const SHA256_FINGERPRINT = /^(?:[0-9A-Fa-f]{64}|(?:[0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2})$/;
const labelKey = z.string().regex(/^[A-Za-z0-9_.\-/]+$/, 'label keys are letters, digits and _ . - /');

export const probeSchema = z.strictObject({
  name: z.string().regex(PROBE_NAME, 'probe names are letters, digits, _ and -'),
  command: nonEmpty,
  timeout: z.number().positive().max(600).default(DEFAULT_PROBE_TIMEOUT_SECONDS),
  /**
   * The class of every fact of this probe (`scale` for row counts and sizes), declared to the
   * aggregator in `hello` (declared-classes.ts); absent: the aggregator's rules decide.
   */
  class: declarableClassSchema.optional(),
});
export type ProbeConfig = z.infer<typeof probeSchema>;

/** How often the daemon re-reads the watched processes (re-resolve pids, compare a signature). */
export const DEFAULT_PROCESS_POLL_MS = 2_000;

const processName = z.string().regex(/^[A-Za-z0-9_-]+$/, 'process names are letters, digits, _ and -');
const processRegex = nonEmpty.refine((source) => {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}, 'not a valid regular expression');

/**
 * One application process whose own environment is reported under `process.<name>.*`. Found by a
 * command-line regex (`match`, tested against argv joined by spaces), a pid file, or a systemd unit.
 */
export const processSchema = z
  .strictObject({
    name: processName,
    match: processRegex.optional(),
    pidFile: nonEmpty.optional(),
    unit: z
      .string()
      .regex(/^[A-Za-z0-9:_.@\\-]+$/, 'a systemd unit name, e.g. api.service')
      .optional(),
    /** Env var name globs for this process; default `watch.envVars`. */
    envVars: z.array(nonEmpty).optional(),
  })
  .superRefine((spec, context) => {
    const given = (['match', 'pidFile', 'unit'] as const).filter((key) => spec[key] !== undefined);
    if (given.length !== 1) {
      context.addIssue({
        code: 'custom',
        message: `give exactly one of match, pidFile or unit (got ${given.length ? given.join(', ') : 'none'})`,
      });
    }
  });
export type ProcessConfig = z.infer<typeof processSchema>;

/** An env file: dotenv (`export K=v`, quotes, `#` comments) or systemd `EnvironmentFile=` syntax. */
export const envFileSchema = z.union([
  nonEmpty,
  z.strictObject({ path: nonEmpty, format: z.enum(['dotenv', 'systemd']).default('dotenv') }),
]);
export type EnvFileConfig = z.infer<typeof envFileSchema>;

const hostPort = z.string().regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'expected host:port');

export const watchSchema = z.strictObject({
  envVars: z.array(nonEmpty).default([]),
  files: z.array(nonEmpty).default([]),
  projects: z.array(nonEmpty).default([]),
  resolve: z.array(nonEmpty).default([]),
  tls: z.array(hostPort).default([]),
  probes: z
    .array(probeSchema)
    .default([])
    .refine((probes) => new Set(probes.map((p) => p.name)).size === probes.length, 'probe names must be unique'),
  processes: z
    .array(processSchema)
    .default([])
    .refine((list) => new Set(list.map((p) => p.name)).size === list.length, 'process names must be unique'),
  envFiles: z.array(envFileSchema).default([]),
  /** Servers the application talks to: versions and settings under `service.<name>.*` (config-services.ts). */
  services: servicesSchema,
  /** Read watched files through a symlink (default false: a symlink is reported, never read). */
  followSymlinks: z.boolean().default(false),
  /** Watched files larger than this are not read; the facts say so (default 10 MB). */
  maxFileBytes: z
    .number()
    .int()
    .positive()
    .max(1024 * 1024 * 1024)
    .default(DEFAULT_MAX_WATCHED_FILE_BYTES),
});
export type WatchConfig = z.infer<typeof watchSchema>;

/** `aggregator` as a list: at most this many URLs to fail over between. */
export const MAX_AGGREGATOR_URLS = 16;

const aggregatorUrl = z
  .string()
  .regex(/^(wss?|https?):\/\/[^\s]+$/, 'expected a ws://, wss://, http:// or https:// URL');
/** The list's own rules, checked after the union so that each reads as itself (not "Invalid input"). */
function checkAggregatorList(value: string | string[], context: z.RefinementCtx): void {
  if (typeof value === 'string') return;
  if (value.length === 0) context.addIssue({ code: 'custom', message: 'give at least one URL' });
  if (value.length > MAX_AGGREGATOR_URLS) {
    context.addIssue({ code: 'custom', message: `at most ${MAX_AGGREGATOR_URLS} URLs, got ${value.length}` });
  }
  // The URL itself stays out of the message: it may carry credentials.
  value.forEach((url, index) => {
    const first = value.indexOf(url);
    if (first !== index) {
      context.addIssue({ code: 'custom', path: [index], message: `duplicate: the same URL as aggregator[${first}]` });
    }
  });
}

/** The aggregator URLs of a config value, in order: none, the one, or the list. */
export function aggregatorUrls(value: string | readonly string[] | undefined): string[] {
  if (value === undefined) return [];
  return typeof value === 'string' ? [value] : [...value];
}

export const agentConfigSchema = z.strictObject({
  environment: environmentNameSchema.optional(),
  labels: z.record(labelKey, z.string()).default({}),
  hostId: z
    .string()
    .regex(/^[A-Za-z0-9_.\-:]+$/, 'host ids are letters, digits and _ . - :')
    .max(128)
    .optional(),
  /** One aggregator URL, or a list to fail over between (aggregator-urls in the agent: rotation, backoff per round). */
  aggregator: z
    .union([aggregatorUrl, z.array(aggregatorUrl)], { error: 'expected a URL or a list of URLs' })
    .superRefine(checkAggregatorList)
    .optional(),
  interval: z.number().int().min(1).max(86_400).default(DEFAULT_INTERVAL_SECONDS),
  /** TLS to the aggregator (wss:// and https://): pin a CA and/or the server certificate's SHA-256. */
  tls: z
    .strictObject({
      /** PEM file of the CA(s) to trust instead of the system's: only certificates they signed are accepted. */
      ca: nonEmpty.optional(),
      /** SHA-256 fingerprint of the aggregator's certificate: hex, colons optional, any case. */
      serverFingerprint: z
        .string()
        .regex(SHA256_FINGERPRINT, 'expected a SHA-256 fingerprint: 64 hex digits, colons optional')
        .optional(),
    })
    .optional(),
  /** Allow plain ws:// and http:// to a non-loopback aggregator (tokens and facts in clear text). */
  allowInsecure: z.boolean().default(false),
  stateDir: nonEmpty.optional(),
  /** Host mode (an agent in a container): read the host's files under this directory instead of `/`. */
  hostRoot: nonEmpty.optional(),
  logLevel: z.enum(LOG_LEVELS).default('info'),
  watch: watchSchema.default(() => watchSchema.parse({})),
  secrets: z.array(nonEmpty).default([...DEFAULT_SECRET_GLOBS]),
  /** Per-collector timeout in seconds. */
  collectorTimeout: z.number().positive().max(600).default(10),
  /** Collectors to skip, by name. */
  disable: z.array(nonEmpty).default([]),
});
export type AgentConfig = z.infer<typeof agentConfigSchema>;
export type AgentConfigInput = z.input<typeof agentConfigSchema>;

/** Turns zod issues into one line per issue, each led by the dotted key it is about. */
export function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const key = issue.path
        .map((part, index) => (typeof part === 'number' ? `[${part}]` : `${index ? '.' : ''}${String(part)}`))
        .join('');
      if (issue.code === 'unrecognized_keys') {
        const prefix = key ? `${key}.` : '';
        return issue.keys.map((k) => `${prefix}${k}: unknown key`).join('; ');
      }
      return `${key || '(root)'}: ${issue.message}`;
    })
    .join('; ');
}

/** The dotted key of the first issue, for ConfigError.key. */
export function firstIssueKey(error: z.ZodError): string | undefined {
  const issue = error.issues[0];
  if (!issue) return undefined;
  const base = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') return [base, issue.keys[0]].filter(Boolean).join('.');
  return base || undefined;
}

/**
 * Validates a parsed config document against a schema: the top level must be a mapping (or empty),
 * and every problem is reported by key. Shared by the agent and the aggregator config files.
 */
export function validateConfigDocument<T>(schema: z.ZodType<T>, input: unknown, source: string): T {
  if (input !== null && input !== undefined && (typeof input !== 'object' || Array.isArray(input))) {
    throw new ConfigError(`${source}: the top level must be a mapping of keys`);
  }
  const result = schema.safeParse(input ?? {});
  if (!result.success) throw new ConfigError(`${source}: ${formatIssues(result.error)}`, firstIssueKey(result.error));
  return result.data;
}

/** Parses config text as YAML 1.2 (which also reads JSON); duplicate keys are errors. */
export function parseConfigText(text: string, source: string): unknown {
  // Checked before parsing: a 100 MB document took 15 s and 3.7 GB to refuse.
  if (text.length > MAX_CONFIG_FILE_BYTES) {
    throw new ConfigError(`${source}: config is over ${MAX_CONFIG_FILE_BYTES} bytes: refused unread`);
  }
  try {
    return parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (cause) {
    const detail = cause instanceof YAMLParseError ? cause.message.split('\n')[0] : String(cause);
    throw new ConfigError(`${source}: not valid YAML or JSON: ${detail}`, undefined, { cause });
  }
}

/** Validates an already-parsed agent config object. */
export function validateAgentConfig(input: unknown, source = 'config'): AgentConfig {
  return validateConfigDocument(agentConfigSchema, input, source);
}

/** Parses agent config text, YAML or JSON, and validates it. */
export function parseAgentConfig(text: string, source = 'config'): AgentConfig {
  return validateAgentConfig(parseConfigText(text, source), source);
}
