import type { AgentConfig, CollectorReport, FactMap } from '@envparity/shared';
import { categoryOf, isCategory } from '@envparity/shared';
import type { Collector, CollectorContext } from './collectors/types.js';
import { execCommand } from './exec.js';
import type { SecretHasher } from './secrets.js';

export interface CollectionResult {
  /** Every collector's facts merged (what a fact document holds). */
  facts: FactMap;
  /** The facts of each collector that succeeded, by name (a failed or timed-out one is absent). */
  byCollector: Map<string, FactMap>;
  collectors: CollectorReport[];
  errors: { collector: string; message: string }[];
  durationMs: number;
}

export interface RunCollectorsOptions {
  config: AgentConfig;
  secrets: SecretHasher;
  /** Overrides config.collectorTimeout (milliseconds). */
  timeoutMs?: number;
}

class CollectorTimeoutError extends Error {
  constructor(name: string, ms: number) {
    super(`collector ${name} timed out after ${ms} ms`);
    this.name = 'CollectorTimeoutError';
  }
}

/**
 * Runs collectors in parallel, each behind its own timeout (Promise.allSettled): one that throws
 * or hangs is reported in `errors` by name and never blocks the others. Facts whose path does
 * not start with a known category are dropped and reported, so a buggy collector cannot pollute
 * the document.
 */
export async function runCollectors(
  collectors: readonly Collector[],
  { config, secrets, timeoutMs }: RunCollectorsOptions,
): Promise<CollectionResult> {
  const started = performance.now();
  const enabled = collectors.filter((c) => !config.disable.includes(c.name));
  // Partial failures reported while collectors run come first, then whole-collector failures.
  const errors: CollectionResult['errors'] = [];
  const settled = await Promise.allSettled(
    enabled.map((collector) =>
      runOne(collector, config, secrets, collector.timeoutMs ?? timeoutMs ?? config.collectorTimeout * 1000, errors),
    ),
  );
  const facts: FactMap = {};
  const byCollector = new Map<string, FactMap>();
  const reports: CollectorReport[] = [];
  settled.forEach((outcome, index) => {
    const collector = enabled[index] as Collector;
    if (outcome.status === 'fulfilled') {
      const { result, durationMs } = outcome.value;
      let count = 0;
      const invalid: string[] = [];
      const own: FactMap = {};
      for (const [path, value] of Object.entries(result)) {
        let category: string;
        try {
          category = categoryOf(path);
        } catch {
          invalid.push(path);
          continue;
        }
        if (!isCategory(category)) {
          invalid.push(path);
          continue;
        }
        facts[path] = value;
        own[path] = value;
        count++;
      }
      byCollector.set(collector.name, own);
      const report: CollectorReport = { name: collector.name, durationMs: round(durationMs), facts: count };
      if (invalid.length > 0) {
        report.error = `dropped ${invalid.length} fact(s) with an invalid path, e.g. ${JSON.stringify(invalid[0])}`;
        errors.push({ collector: collector.name, message: report.error });
      }
      reports.push(report);
    } else {
      const reason = outcome.reason as { error: unknown; durationMs: number };
      const message = reason.error instanceof Error ? reason.error.message : String(reason.error);
      const report: CollectorReport = {
        name: collector.name,
        durationMs: round(reason.durationMs),
        facts: 0,
        error: message,
      };
      if (reason.error instanceof CollectorTimeoutError) report.timedOut = true;
      reports.push(report);
      errors.push({ collector: collector.name, message });
    }
  });
  return { facts, byCollector, collectors: reports, errors, durationMs: round(performance.now() - started) };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

async function runOne(
  collector: Collector,
  config: AgentConfig,
  secrets: SecretHasher,
  timeoutMs: number,
  partialErrors: CollectionResult['errors'],
): Promise<{ result: FactMap; durationMs: number }> {
  const controller = new AbortController();
  const started = performance.now();
  const context: CollectorContext = {
    config,
    secrets,
    signal: controller.signal,
    exec: (file, args, options = {}) => execCommand(file, args, { signal: controller.signal, ...options }),
    reportError: (message) => partialErrors.push({ collector: collector.name, message }),
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new CollectorTimeoutError(collector.name, timeoutMs));
    }, timeoutMs);
  });
  try {
    const result = await Promise.race([collector.collect(context), timeout]);
    return { result, durationMs: performance.now() - started };
  } catch (error) {
    controller.abort();
    throw { error, durationMs: performance.now() - started };
  } finally {
    clearTimeout(timer);
  }
}
