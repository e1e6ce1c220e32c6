/**
 * `envparity-agent verify` and `baseline`: collect this host's facts with the fleet key (the same
 * hashes as the running agent), then judge them against a live environment baseline or an
 * expectation file. Exit codes: 0 parity, 1 drift, 2 error. Neither command ever enrolls: the fleet
 * key comes from an enrolled agent's state dir or from `GET /api/v1/fleet-key` (fleet-key.ts).
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import {
  type AgentConfig,
  aggregatorUrls,
  type ClassRule,
  classRuleSchema,
  createClassifier,
  exceptionRuleSchema,
  type FactMap,
  type FactValue,
  factMapSchema,
} from '@envparity/shared';
import { z } from 'zod';
import { loadClientTlsOptions } from '../daemon/tls-options.js';
import { SECRET_HASH_PREFIX } from '../secrets.js';
import { defaultStateDir } from '../state-dir.js';
import { type AggregatorTransport, apiBaseUrl, getJson } from './aggregator-client.js';
import { type VerifyResult, verifyAgainstBaseline, verifyAgainstExpectations } from './evaluate.js';
import { ExpectationError, type ExpectationFile, formatExpectationFile, parseExpectationFile } from './expectation.js';
import { fetchFleetKey, NoFleetKeyError, readStateDirFleetKey, resolveFleetKey } from './fleet-key.js';
import { formatVerifyResult, JUNIT_PER, type JunitPer, type VerifyFormat, type VerifyReport } from './formats.js';
import { type IdentityFlags, resolveIdentity } from './identity.js';
import { readExtraChecks, startVerifyChecks, type VerifyChecks } from './run-checks.js';
import { VerifyError } from './verify-error.js';

export { apiBaseUrl, DEFAULT_HTTP_TIMEOUT_MS } from './aggregator-client.js';
export { VerifyError } from './verify-error.js';

/** `--ca`, `--server-fingerprint`, `--allow-insecure`: over the config's `tls` and `allowInsecure`. */
export interface TransportFlags {
  ca?: string;
  serverFingerprint?: string;
  allowInsecure?: boolean;
}

/** The transport for the aggregator's HTTP calls: the CA file read, the pin normalized (ConfigError when bad). */
export async function resolveTransport(
  aggregator: string,
  config: AgentConfig,
  flags: TransportFlags,
): Promise<AggregatorTransport> {
  const tls = await loadClientTlsOptions(apiBaseUrl(aggregator), {
    ca: flags.ca ?? config.tls?.ca,
    serverFingerprint: flags.serverFingerprint ?? config.tls?.serverFingerprint,
  });
  return { tls, allowInsecure: flags.allowInsecure === true || config.allowInsecure };
}

export interface VerifyFlags extends IdentityFlags, TransportFlags {
  against?: string;
  aggregator?: string;
  token?: string;
  expect?: string;
  stateDir?: string;
  format: VerifyFormat;
  junitPer?: JunitPer;
  strict?: boolean;
  failOn?: string;
  category?: string;
  out?: string;
  /** A file holding only `checks:` (checks.ts), run beside the expectation file's own. */
  checks?: string;
  /** Re-run failing checks this long (`60s`); default one try. */
  retryTimeout?: string;
  /** Pause between check attempts (`2s`; default 1s). */
  sleep?: string;
}

function splitList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

const baselineResponseSchema = z.object({
  environment: z.string(),
  facts: factMapSchema,
  fingerprint: z.string().optional(),
  /** Class overrides of the aggregator, so this host is classified exactly as there. */
  classes: z.array(classRuleSchema).optional(),
  /** The aggregator's `secretPolicy`, so secrets are judged exactly as `/compare` judges them. */
  secretPolicy: z.array(z.object({ glob: z.string(), expect: z.enum(['differ', 'equal']) })).optional(),
});
const exceptionsResponseSchema = z.object({ exceptions: z.array(exceptionRuleSchema.passthrough()) });

const READ_EXPLAIN = {
  401: 'the API token is unknown or revoked; pass a valid --token or ENVPARITY_TOKEN',
  403: 'the API token may not read this: use a token of scope verify, read or admin',
};

/**
 * A key for a run that will compare no secret: secrets get hashed with it and match nothing. It
 * lives in memory only (no file is written, nothing registered).
 */
function throwawayKey(): string {
  return randomBytes(32).toString('hex');
}

function isSecretHash(value: FactValue | undefined): boolean {
  if (typeof value === 'string') return value.startsWith(SECRET_HASH_PREFIX);
  return Array.isArray(value) && value.some((v) => typeof v === 'string' && v.startsWith(SECRET_HASH_PREFIX));
}

/** Paths of an expectation file whose matcher holds a keyed hash (they need the fleet key). */
export function secretHashPaths(file: ExpectationFile): string[] {
  const paths: string[] = [];
  for (const [path, matcher] of file.expectations) {
    if (
      (matcher.kind === 'equals' && isSecretHash(matcher.value)) ||
      (matcher.kind === 'oneOf' && matcher.values.some(isSecretHash))
    )
      paths.push(path);
  }
  return paths;
}

/** Paths of a fact map whose value is a keyed hash. */
function secretFactPaths(facts: FactMap): string[] {
  return Object.entries(facts)
    .filter(([, value]) => isSecretHash(value as FactValue))
    .map(([path]) => path);
}

function examples(paths: readonly string[]): string {
  return `${paths.slice(0, 3).join(', ')}${paths.length > 3 ? `, … (${paths.length})` : ''}`;
}

export interface VerifyIo {
  env?: NodeJS.ProcessEnv;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  isTty?: boolean;
}

async function readExpectationFile(source: string): Promise<ExpectationFile> {
  let text: string;
  try {
    text = await readFile(source, 'utf8');
  } catch (cause) {
    throw new VerifyError(`cannot read ${source}: ${(cause as Error).message}`, { cause });
  }
  try {
    return parseExpectationFile(text, source);
  } catch (cause) {
    if (cause instanceof ExpectationError) throw new VerifyError(cause.message, { cause });
    throw cause;
  }
}

/**
 * The collectors' modules (~150 ms to load), imported as the command starts: they load while the
 * identity is resolved and the fleet key and baseline are fetched, not before. A failed load
 * rejects only when awaited (a command that ends earlier on a usage error never sees it).
 */
function loadCollector(): Promise<typeof import('../collect.js')> {
  const loading = import('../collect.js');
  loading.catch(() => {});
  return loading;
}

/** Runs verify; resolves with the exit code (0 parity, 1 drift). Throws VerifyError for exit 2. */
export async function runVerify(config: AgentConfig, flags: VerifyFlags, io: VerifyIo = {}): Promise<number> {
  const env = io.env ?? process.env;
  const stdout = io.stdout ?? ((text: string) => process.stdout.write(text));
  const stderr = io.stderr ?? ((text: string) => process.stderr.write(text));
  const collector = loadCollector();
  if (Boolean(flags.against) === Boolean(flags.expect)) {
    throw new VerifyError('give exactly one of --against ENV (with --aggregator) or --expect FILE');
  }
  if (flags.junitPer !== undefined && !JUNIT_PER.includes(flags.junitPer)) {
    throw new VerifyError(
      `--junit-per: expected one of ${JUNIT_PER.join(', ')}, got ${JSON.stringify(flags.junitPer)}`,
    );
  }
  const stateDir = flags.stateDir ?? config.stateDir ?? defaultStateDir(env);
  const identity = await resolveIdentity(config, flags, stateDir);
  const collectConfig = identity.config;
  const hostId = identity.hostId;
  const categories = splitList(flags.category);
  const judge = { strict: flags.strict ?? false, failOn: splitList(flags.failOn) ?? [] };
  const host = { id: hostId, ...(identity.environment ? { environment: identity.environment } : {}) };
  const token = flags.token || env.ENVPARITY_TOKEN || undefined;
  // The CLI passes the one URL that answered; a config list starts with its first.
  const aggregator = flags.aggregator ?? aggregatorUrls(config.aggregator)[0];
  const stateKey = await readStateDirFleetKey(stateDir);
  const extraChecks = await readExtraChecks(flags.checks);

  let result: VerifyResult;
  let healthChecks: VerifyChecks;
  if (flags.against) {
    if (!aggregator) throw new VerifyError('--against needs --aggregator URL (or `aggregator` in the config)');
    if (!token) {
      if (!stateKey) throw new NoFleetKeyError(stateDir);
      throw new VerifyError(
        '--against needs an API token to read the baseline: --token T or ENVPARITY_TOKEN (scope verify, read or admin)',
      );
    }
    const base = apiBaseUrl(aggregator);
    const transport = await resolveTransport(aggregator, config, flags);
    const environment = encodeURIComponent(flags.against);
    const checks = startVerifyChecks(extraChecks, config, flags, { env, progress: stderr });
    healthChecks = checks;
    // The baseline, the exceptions and the checks are independent: fetch while checking, then collect.
    const [baseline, exceptions, facts] = await Promise.all([
      getJson(base, `/api/v1/environments/${environment}/baseline`, token, baselineResponseSchema, {
        explain: { ...READ_EXPLAIN, 404: `no environment ${JSON.stringify(flags.against)} on this aggregator` },
        transport,
      }),
      getJson(base, '/api/v1/exceptions', token, exceptionsResponseSchema, { explain: READ_EXPLAIN, transport }),
      Promise.all([stateKey || fetchFleetKey(aggregator, token, transport), collector, checks.results]).then(
        ([hashKey, { collectFacts }]) => collectFacts({ config: collectConfig, stateDir, hashKey, hostId }),
      ),
    ]).catch((error: unknown) => {
      checks.stop(); // the run ends with exit 2: no retrying check keeps the process alive
      throw error;
    });
    const classes: ClassRule[] = baseline.classes ?? [];
    result = verifyAgainstBaseline(host, facts.facts, flags.against, baseline.facts, {
      ...judge,
      classify: createClassifier(classes),
      exceptions: exceptions.exceptions,
      ...(baseline.secretPolicy ? { secretPolicy: baseline.secretPolicy } : {}),
      ...(categories ? { categories } : {}),
    });
  } else {
    const source = flags.expect as string;
    const file = await readExpectationFile(source);
    let hashKey =
      stateKey ??
      (token && aggregator
        ? await fetchFleetKey(aggregator, token, await resolveTransport(aggregator, config, flags))
        : undefined);
    if (!hashKey) {
      // Without the fleet key a secret cannot be compared; a file that lists none does not need it.
      const hashed = secretHashPaths(file);
      if (hashed.length > 0) throw new NoFleetKeyError(stateDir, `${source} holds secret hashes: ${examples(hashed)}`);
      hashKey = throwawayKey();
    }
    healthChecks = startVerifyChecks([...file.checks, ...extraChecks], config, flags, { env, progress: stderr });
    const [{ collectFacts }] = await Promise.all([collector, healthChecks.results]);
    const facts = await collectFacts({ config: collectConfig, stateDir, hashKey, hostId });
    result = verifyAgainstExpectations(host, facts.facts, file, source, {
      ...judge,
      ...(categories ? { categories } : {}),
    });
  }
  const checkResults = await healthChecks.results;
  const checksPassed = checkResults.every((check) => check.ok);
  const report: VerifyReport = { ...result, passed: result.passed && checksPassed, healthChecks: checkResults };
  const color = !flags.out && (io.isTty ?? process.stdout.isTTY === true) && !env.NO_COLOR;
  const output = formatVerifyResult(report, flags.format, {
    color,
    ...(flags.junitPer ? { junitPer: flags.junitPer } : {}),
  });
  if (flags.out) {
    await writeFile(flags.out, output);
    const verdict = !result.passed ? 'drift' : checksPassed ? 'parity' : 'checks failing';
    stderr(`${verdict}: report written to ${flags.out}\n`);
  } else {
    stdout(output);
  }
  return report.passed ? 0 : 1;
}

export interface BaselineFlags extends IdentityFlags, TransportFlags {
  stateDir?: string;
  out?: string;
  aggregator?: string;
  token?: string;
}

/**
 * Writes this host's behavior facts as an expectation file (stdout without --out). Secrets are
 * written as keyed hashes, so they need the fleet key; a host with no secret facts does not.
 */
export async function runBaseline(config: AgentConfig, flags: BaselineFlags, io: VerifyIo = {}): Promise<void> {
  const env = io.env ?? process.env;
  const stdout = io.stdout ?? ((text: string) => process.stdout.write(text));
  const stderr = io.stderr ?? ((text: string) => process.stderr.write(text));
  const collector = loadCollector();
  const stateDir = flags.stateDir ?? config.stateDir ?? defaultStateDir(env);
  const identity = await resolveIdentity(config, flags, stateDir);
  const token = flags.token || env.ENVPARITY_TOKEN || undefined;
  // The CLI passes the one URL that answered; a config list starts with its first.
  const aggregator = flags.aggregator ?? aggregatorUrls(config.aggregator)[0];
  const fleetKey = await resolveFleetKey({
    stateDir,
    aggregator,
    token,
    ...(aggregator && token ? { transport: await resolveTransport(aggregator, config, flags) } : {}),
  });
  const { collectFacts } = await collector;
  const document = await collectFacts({
    config: identity.config,
    stateDir,
    hashKey: fleetKey?.key ?? throwawayKey(),
    hostId: identity.hostId,
  });
  const classify = createClassifier();
  const behavior = Object.fromEntries(Object.entries(document.facts).filter(([path]) => classify(path) === 'behavior'));
  if (!fleetKey) {
    const hashed = secretFactPaths(behavior);
    if (hashed.length > 0)
      throw new NoFleetKeyError(stateDir, `this host has secrets to write as hashes: ${examples(hashed)}`);
  }
  const text = formatExpectationFile(behavior, {
    hostId: document.hostId,
    ...(document.environment ? { environment: document.environment } : {}),
    createdAt: document.collectedAt,
  });
  if (flags.out) {
    await writeFile(flags.out, text);
    stderr(`${Object.keys(behavior).length} behavior facts written to ${flags.out}\n`);
  } else {
    stdout(text);
  }
}
