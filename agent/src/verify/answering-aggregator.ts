/**
 * For the one-shot commands (`verify`, `baseline`) given several aggregators (`aggregator` as a
 * list, `--aggregator` repeated): the first that answers, tried in order, so that a pipeline keeps
 * working while one aggregator is down. The daemon fails over by itself (aggregator-rotation.ts).
 */
import { type AgentConfig, aggregatorUrls } from '@envparity/shared';
import { z } from 'zod';
import { CliExit, EXIT } from '../cli-exit.js';
import { redactUrl } from '../daemon/aggregator-url.js';
import { errorMessage } from '../daemon/error-message.js';
import { getJson } from './aggregator-client.js';
import { apiBaseUrl, resolveTransport } from './verify-command.js';

export interface AggregatorChoice {
  /** The first URL that answered; the first of the list when none did (the command reports its own error). */
  url: string;
  /** Why each URL tried before `url` (or every URL, when none answered) failed: `[index] URL: reason`. */
  failures: string[];
  /** No URL answered. */
  noneAnswered: boolean;
}

/** Tries `probe` on each URL in order; the first that resolves wins. */
export async function firstAnsweringAggregator(
  urls: readonly string[],
  probe: (url: string) => Promise<unknown>,
): Promise<AggregatorChoice> {
  const failures: string[] = [];
  for (const [index, url] of urls.entries()) {
    try {
      await probe(url);
      return { url, failures, noneAnswered: false };
    } catch (error) {
      failures.push(`[${index}] ${redactUrl(url)}: ${withoutUserInfo(errorMessage(error))}`);
    }
  }
  return { url: urls[0] as string, failures, noneAnswered: true };
}

/** A URL quoted in an error keeps its host, not its user name and password. */
function withoutUserInfo(message: string): string {
  return message.replace(/\/\/[^/\s@]+@/g, '//');
}

/** One line for an error message: which aggregators failed and why. */
export function describeUnanswered(choice: AggregatorChoice): string {
  return `no aggregator answered: ${choice.failures.join('; ')}`;
}

export interface AggregatorFlags {
  aggregator?: string[];
  token?: string;
  against?: string;
  ca?: string;
  serverFingerprint?: string;
  allowInsecure?: boolean;
}

/**
 * `verify` and `baseline` with several aggregators: the first that answers `/healthz`, in order,
 * when the command will call one (`--against`, or a token to fetch the fleet key with). Then
 * `run` calls it with that one URL; if none answered and the command fails, the error says which
 * URLs failed and why.
 */
export async function withAnsweringAggregator<T>(
  config: AgentConfig,
  flags: AggregatorFlags,
  run: (aggregator: string | undefined) => Promise<T>,
): Promise<T> {
  const urls = flags.aggregator ?? aggregatorUrls(config.aggregator);
  const callsAggregator = Boolean(flags.against) || Boolean(flags.token || process.env.ENVPARITY_TOKEN);
  if (urls.length <= 1 || !callsAggregator) return run(urls[0]);
  const healthy = z.object({ status: z.literal('ok') });
  const choice = await firstAnsweringAggregator(urls, async (url) =>
    getJson(apiBaseUrl(url), '/healthz', '', healthy, {
      timeoutMs: HEALTH_PROBE_TIMEOUT_MS,
      transport: await resolveTransport(url, config, flags),
    }),
  );
  if (!choice.noneAnswered) return run(choice.url);
  try {
    return await run(choice.url);
  } catch (error) {
    if (error instanceof Error && (error as { code?: unknown }).code === 'VERIFY_ERROR') {
      throw new CliExit(EXIT.error, `${error.message} (${describeUnanswered(choice)})`);
    }
    throw error;
  }
}

/** How long `verify`/`baseline` wait for each aggregator's `/healthz` before trying the next. */
const HEALTH_PROBE_TIMEOUT_MS = 5_000;

/** The config with `aggregator` narrowed to the one URL chosen (verify and baseline call one aggregator). */
export function withAggregator(config: AgentConfig, aggregator: string | undefined): AgentConfig {
  const { aggregator: _list, ...rest } = config;
  return aggregator === undefined ? rest : { ...rest, aggregator };
}
