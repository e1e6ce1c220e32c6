/**
 * `envparity-agent verify` and `baseline`: collect this host's facts with the fleet key (the same
 * hashes as the running agent), then judge them against a live environment baseline or an
 * expectation file. Exit codes: 0 parity, 1 drift, 2 error.
 */
import { readFile, writeFile } from 'node:fs/promises';
import {
  type AgentConfig,
  type ClassRule,
  classRuleSchema,
  createClassifier,
  exceptionRuleSchema,
  factMapSchema,
} from '@envparity/shared';
import { z } from 'zod';
import { collectFacts } from '../collect.js';
import { readCredentials } from '../daemon/credentials.js';
import { enrollOnce } from '../enroll-once.js';
import { defaultHostId } from '../host-id.js';
import { defaultStateDir, loadHashKey } from '../state-dir.js';
import { type VerifyResult, verifyAgainstBaseline, verifyAgainstExpectations } from './evaluate.js';
import { ExpectationError, formatExpectationFile, parseExpectationFile } from './expectation.js';
import { formatVerifyResult, type VerifyFormat } from './formats.js';

/** A failure that ends verify with exit code 2 and a one-line reason. */
export class VerifyError extends Error {
  readonly code = 'VERIFY_ERROR';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VerifyError';
  }
}

export const DEFAULT_HTTP_TIMEOUT_MS = 10_000;

export interface VerifyFlags {
  against?: string;
  aggregator?: string;
  token?: string;
  expect?: string;
  stateDir?: string;
  format: VerifyFormat;
  strict?: boolean;
  failOn?: string;
  category?: string;
  out?: string;
}

function splitList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The aggregator's HTTP base URL for what the user gave (ws(s) or http(s), any path dropped). */
export function apiBaseUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input);
  } catch (cause) {
    throw new VerifyError(`--aggregator: not a URL: ${JSON.stringify(input)}`, { cause });
  }
  const protocols: Record<string, string> = { 'ws:': 'http:', 'wss:': 'https:', 'http:': 'http:', 'https:': 'https:' };
  const protocol = protocols[url.protocol];
  if (!protocol) throw new VerifyError(`--aggregator: expected an http(s):// or ws(s):// URL, got ${url.protocol}//`);
  return `${protocol}//${url.host}`;
}

const baselineResponseSchema = z.object({
  environment: z.string(),
  facts: factMapSchema,
  fingerprint: z.string().optional(),
  /** Class overrides of the aggregator, so this host is classified exactly as there. */
  classes: z.array(classRuleSchema).optional(),
});
const exceptionsResponseSchema = z.object({ exceptions: z.array(exceptionRuleSchema.passthrough()) });

async function getJson<T>(base: string, path: string, token: string, schema: z.ZodType<T>): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      signal: AbortSignal.timeout(DEFAULT_HTTP_TIMEOUT_MS),
    });
  } catch (cause) {
    const inner = (cause as Error & { cause?: { code?: string; message?: string } }).cause;
    const reason = inner?.code ?? inner?.message ?? (cause as Error).message;
    throw new VerifyError(`aggregator unreachable at ${base}: ${reason}`, { cause });
  }
  const body = await response.text();
  if (!response.ok) {
    let detail = body.slice(0, 200);
    try {
      detail = (JSON.parse(body) as { error?: { message?: string } }).error?.message ?? detail;
    } catch {
      // not JSON: keep the raw start
    }
    throw new VerifyError(`aggregator answered ${response.status} for ${path}: ${detail}`);
  }
  const parsed = schema.safeParse(JSON.parse(body));
  if (!parsed.success) throw new VerifyError(`unexpected answer from the aggregator for ${path}`);
  return parsed.data;
}

/**
 * The hash key for secrets: the fleet key of this state dir, enrolling first when there is none
 * and an enroll secret and aggregator are known; else the local key (then secrets compare only
 * with this host's own earlier runs, and we say so).
 */
async function resolveHashKey(
  config: AgentConfig,
  stateDir: string,
  aggregator: string | undefined,
  env: NodeJS.ProcessEnv,
  warn: (line: string) => void,
): Promise<string> {
  const credentials = await readCredentials(stateDir);
  if (credentials) return credentials.fleetKey;
  const enrollSecret = env.ENVPARITY_ENROLL_SECRET;
  const target = aggregator ?? config.aggregator;
  if (enrollSecret && target) {
    const enrolled = await enrollOnce({
      aggregator: target,
      enrollSecret,
      hostId: config.hostId ?? (await defaultHostId()),
      ...(config.environment ? { environment: config.environment } : {}),
      labels: config.labels,
      stateDir,
    }).catch((cause: Error) => {
      throw new VerifyError(`no fleet key in ${stateDir} and enrollment failed: ${cause.message}`, { cause });
    });
    return enrolled.fleetKey;
  }
  warn(
    `warning: no fleet key in ${stateDir} (set ENVPARITY_ENROLL_SECRET or run the agent first): secrets are hashed with a local key and will differ from other hosts\n`,
  );
  return (await loadHashKey(stateDir)).key;
}

export interface VerifyIo {
  env?: NodeJS.ProcessEnv;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  isTty?: boolean;
}

/** Runs verify; resolves with the exit code (0 parity, 1 drift). Throws VerifyError for exit 2. */
export async function runVerify(config: AgentConfig, flags: VerifyFlags, io: VerifyIo = {}): Promise<number> {
  const env = io.env ?? process.env;
  const stdout = io.stdout ?? ((text: string) => process.stdout.write(text));
  const stderr = io.stderr ?? ((text: string) => process.stderr.write(text));
  if (Boolean(flags.against) === Boolean(flags.expect)) {
    throw new VerifyError('give exactly one of --against ENV (with --aggregator) or --expect FILE');
  }
  const stateDir = flags.stateDir ?? config.stateDir ?? defaultStateDir(env);
  const categories = splitList(flags.category);
  const judge = { strict: flags.strict ?? false, failOn: splitList(flags.failOn) ?? [] };
  const hostId = config.hostId ?? (await defaultHostId());
  const host = { id: hostId, ...(config.environment ? { environment: config.environment } : {}) };

  let result: VerifyResult;
  if (flags.against) {
    const aggregator = flags.aggregator ?? config.aggregator;
    if (!aggregator) throw new VerifyError('--against needs --aggregator URL (or `aggregator` in the config)');
    const token = flags.token ?? env.ENVPARITY_TOKEN;
    if (!token) throw new VerifyError('--against needs an API token: --token T or ENVPARITY_TOKEN');
    const base = apiBaseUrl(aggregator);
    const environment = encodeURIComponent(flags.against);
    // The baseline, the exceptions and this host's facts are independent: fetch while collecting.
    const [baseline, exceptions, facts] = await Promise.all([
      getJson(base, `/api/v1/environments/${environment}/baseline`, token, baselineResponseSchema),
      getJson(base, '/api/v1/exceptions', token, exceptionsResponseSchema),
      resolveHashKey(config, stateDir, aggregator, env, stderr).then((hashKey) =>
        collectFacts({ config, stateDir, hashKey, hostId }),
      ),
    ]);
    const classes: ClassRule[] = baseline.classes ?? [];
    result = verifyAgainstBaseline(host, facts.facts, flags.against, baseline.facts, {
      ...judge,
      classify: createClassifier(classes),
      exceptions: exceptions.exceptions,
      ...(categories ? { categories } : {}),
    });
  } else {
    const source = flags.expect as string;
    let text: string;
    try {
      text = await readFile(source, 'utf8');
    } catch (cause) {
      throw new VerifyError(`cannot read ${source}: ${(cause as Error).message}`, { cause });
    }
    let file: ReturnType<typeof parseExpectationFile>;
    try {
      file = parseExpectationFile(text, source);
    } catch (cause) {
      if (cause instanceof ExpectationError) throw new VerifyError(cause.message, { cause });
      throw cause;
    }
    const hashKey = await resolveHashKey(config, stateDir, flags.aggregator, env, stderr);
    const facts = await collectFacts({ config, stateDir, hashKey, hostId });
    result = verifyAgainstExpectations(host, facts.facts, file, source, {
      ...judge,
      ...(categories ? { categories } : {}),
    });
  }
  const color = !flags.out && (io.isTty ?? process.stdout.isTTY === true) && !env.NO_COLOR;
  const output = formatVerifyResult(result, flags.format, { color });
  if (flags.out) {
    await writeFile(flags.out, output);
    stderr(`${result.passed ? 'parity' : 'drift'}: report written to ${flags.out}\n`);
  } else {
    stdout(output);
  }
  return result.passed ? 0 : 1;
}

export interface BaselineFlags {
  stateDir?: string;
  out?: string;
  aggregator?: string;
}

/** Writes this host's behavior facts as an expectation file (stdout without --out). */
export async function runBaseline(config: AgentConfig, flags: BaselineFlags, io: VerifyIo = {}): Promise<void> {
  const env = io.env ?? process.env;
  const stdout = io.stdout ?? ((text: string) => process.stdout.write(text));
  const stderr = io.stderr ?? ((text: string) => process.stderr.write(text));
  const stateDir = flags.stateDir ?? config.stateDir ?? defaultStateDir(env);
  const hashKey = await resolveHashKey(config, stateDir, flags.aggregator, env, stderr);
  const document = await collectFacts({ config, stateDir, hashKey });
  const classify = createClassifier();
  const behavior = Object.fromEntries(Object.entries(document.facts).filter(([path]) => classify(path) === 'behavior'));
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
