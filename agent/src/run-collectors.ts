import type { AgentConfig, CollectorReport, FactMap } from '@envparity/shared';
import { categoryOf, PROTOCOL_CATEGORIES } from '@envparity/shared';
import type { HostFs } from './collectors/host-fs.js';
import type { Collector, CollectorContext } from './collectors/types.js';
import { execCommand } from './exec.js';
import type { SecretHasher } from './secrets.js';

/** One collector's outcome in a pass. */
export interface CollectorResult {
  name: string;
  /** Its facts with a valid path; undefined when it failed (threw or timed out). */
  facts: FactMap | undefined;
  durationMs: number;
  /** Why it failed, or which of its facts were dropped for an invalid path. */
  error?: string;
  timedOut?: true;
  /** Partial failures it reported while running (one probe of many, one unreadable file). */
  partialErrors: string[];
}

export interface CollectionResult {
  /** One entry per enabled collector, in the order given. */
  collectors: CollectorResult[];
  /** Wall time of the whole pass (collectors run in parallel). */
  durationMs: number;
}

export interface CollectionError {
  collector: string;
  message: string;
}

export interface RunCollectorsOptions {
  config: AgentConfig;
  secrets: SecretHasher;
  /** Overrides config.collectorTimeout (milliseconds). */
  timeoutMs?: number;
  /** The host's files (host mode); this machine's when absent. */
  host?: HostFs;
}

class CollectorTimeoutError extends Error {
  constructor(name: string, ms: number) {
    super(`collector ${name} timed out after ${ms} ms`);
    this.name = 'CollectorTimeoutError';
  }
}

/**
 * Runs collectors in parallel, each behind its own timeout, and returns one result per collector:
 * one that throws or hangs is a result with an `error` and never blocks the others. Facts whose path
 * does not start with a known category are dropped and reported, so a buggy collector cannot
 * pollute the document. mergeCollectorResults() turns the results into a document's parts.
 */
export async function runCollectors(
  collectors: readonly Collector[],
  { config, secrets, timeoutMs, host }: RunCollectorsOptions,
): Promise<CollectionResult> {
  const started = performance.now();
  const enabled = collectors.filter((c) => !config.disable.includes(c.name));
  const results = await Promise.all(
    enabled.map((collector) =>
      runOne(collector, config, secrets, collector.timeoutMs ?? timeoutMs ?? config.collectorTimeout * 1000, host),
    ),
  );
  return { collectors: results, durationMs: round(performance.now() - started) };
}

/**
 * The parts of a fact document a pass makes: every collector's facts merged (in collector order,
 * a later collector winning a path both produced), one report per collector, and the errors
 * (partial failures first, then whole-collector failures and dropped paths).
 */
export function mergeCollectorResults(results: readonly CollectorResult[]): {
  facts: FactMap;
  collectors: CollectorReport[];
  errors: CollectionError[];
} {
  const facts: FactMap = {};
  const collectors: CollectorReport[] = [];
  const errors: CollectionError[] = [];
  for (const result of results) {
    for (const message of result.partialErrors) errors.push({ collector: result.name, message });
  }
  for (const result of results) {
    if (result.facts) Object.assign(facts, result.facts);
    const report: CollectorReport = {
      name: result.name,
      durationMs: result.durationMs,
      facts: result.facts ? Object.keys(result.facts).length : 0,
    };
    if (result.error !== undefined) {
      report.error = result.error;
      errors.push({ collector: result.name, message: result.error });
    }
    if (result.timedOut) report.timedOut = true;
    collectors.push(report);
  }
  return { facts, collectors, errors };
}

/** `facts` without the paths whose first segment is not a category, and those paths. */
function splitValidFacts(facts: FactMap): { valid: FactMap; invalid: string[] } {
  const valid: FactMap = {};
  const invalid: string[] = [];
  for (const [path, value] of Object.entries(facts)) {
    let category: string;
    try {
      category = categoryOf(path);
    } catch {
      invalid.push(path);
      continue;
    }
    // The protocol's categories: the fact model's own and its extras (`security`).
    if (PROTOCOL_CATEGORIES.includes(category)) valid[path] = value;
    else invalid.push(path);
  }
  return { valid, invalid };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** Runs one collector under its timeout; never rejects (a failure is the result's `error`). */
async function runOne(
  collector: Collector,
  config: AgentConfig,
  secrets: SecretHasher,
  timeoutMs: number,
  host: HostFs | undefined,
): Promise<CollectorResult> {
  const controller = new AbortController();
  const started = performance.now();
  const partialErrors: string[] = [];
  const context: CollectorContext = {
    config,
    secrets,
    signal: controller.signal,
    exec: (file, args, options = {}) => execCommand(file, args, { signal: controller.signal, ...options }),
    reportError: (message) => partialErrors.push(message),
    ...(host ? { host } : {}),
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new CollectorTimeoutError(collector.name, timeoutMs));
    }, timeoutMs);
  });
  try {
    const collected = await Promise.race([collector.collect(context), timeout]);
    const durationMs = round(performance.now() - started);
    const { valid, invalid } = splitValidFacts(collected);
    const result: CollectorResult = { name: collector.name, facts: valid, durationMs, partialErrors };
    if (invalid.length > 0) {
      result.error = `dropped ${invalid.length} fact(s) with an invalid path, e.g. ${JSON.stringify(invalid[0])}`;
    }
    return result;
  } catch (error) {
    controller.abort();
    const result: CollectorResult = {
      name: collector.name,
      facts: undefined,
      durationMs: round(performance.now() - started),
      error: error instanceof Error ? error.message : String(error),
      partialErrors,
    };
    if (error instanceof CollectorTimeoutError) result.timedOut = true;
    return result;
  } finally {
    clearTimeout(timer);
  }
}
