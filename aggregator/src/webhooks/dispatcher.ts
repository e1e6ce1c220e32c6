/**
 * Webhook delivery. `dispatch()` only builds the payload and appends it to each matching webhook's
 * in-memory queue, so ingest and the drift engine never wait on a receiver; one worker per webhook
 * delivers its queue in order, retrying network errors, timeouts, 5xx and 429 with capped
 * exponential backoff and jitter. Queues are bounded: when a receiver stays down long enough, the
 * oldest undelivered events are dropped with a warning (the drift state itself lives in the store).
 * Logs name the webhook by its index and URL host only: a webhook URL's path often is a credential
 * (Slack's `hooks.slack.com/services/...`), and the secret is never logged.
 */
import { randomUUID } from 'node:crypto';
import { matchName } from '@envparity/shared';
import type { Logger } from 'pino';
import type { WebhookConfig } from '../config.js';
import type { DriftEvent } from '../drift/events.js';
import { AGGREGATOR_PACKAGE_VERSION } from '../version.js';
import { signWebhookPayload, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER } from './signature.js';
import { formatWebhookText } from './slack-text.js';

export const WEBHOOK_EVENT_HEADER = 'x-envparity-event';
export const WEBHOOK_DELIVERY_HEADER = 'x-envparity-delivery';

export interface WebhookRetryOptions {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Backoff before retry n (n = 1, 2...) is drawn from [d/2, d] with d = min(capMs, baseMs * 2^(n-1)). */
  baseMs: number;
  /** Upper bound of any wait, `Retry-After` included. */
  capMs: number;
}

export const DEFAULT_WEBHOOK_RETRY: Readonly<WebhookRetryOptions> = { attempts: 6, baseMs: 500, capMs: 60_000 };
/** Per attempt, connection to response headers. */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;
/** Undelivered events kept per webhook; beyond it the oldest are dropped. */
export const DEFAULT_WEBHOOK_QUEUE_SIZE = 1000;
/** How long `close()` keeps delivering what is queued before it gives up. */
export const DEFAULT_WEBHOOK_CLOSE_DEADLINE_MS = 5000;

/** What every webhook receives, as JSON. `id` is the same for every webhook and every retry of one event. */
export interface WebhookPayload {
  id: string;
  type: DriftEvent['type'];
  at: string;
  /** Slack-compatible one-line summary. */
  text: string;
  data: DriftEvent['data'];
}

export interface WebhookDispatcherOptions {
  webhooks: readonly WebhookConfig[];
  logger: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
  fetchImpl?: typeof fetch;
  retry?: Partial<WebhookRetryOptions>;
  /** Uniform [0, 1): the jitter source (tests pass a constant). */
  random?: () => number;
  timeoutMs?: number;
  maxQueue?: number;
  userAgent?: string;
  /** Current time in ms, for the signed timestamp (tests). */
  now?: () => number;
}

export interface WebhookStats {
  /** Index in the `webhooks` config. */
  index: number;
  host: string;
  queued: number;
  delivered: number;
  /** Events given up on after the last attempt, or refused with a non-retryable status. */
  failed: number;
  /** Events dropped because the queue was full (or still queued when `close()`'s deadline passed). */
  dropped: number;
}

export interface WebhookDispatcher {
  /** Queues the event for every webhook whose `events` globs match its type. Never blocks, never throws. */
  dispatch(event: DriftEvent): void;
  /**
   * Stops accepting events and delivers what is queued until everything is done or `deadlineMs`
   * passes; then aborts in-flight attempts and waits, and drops (and logs) what is left.
   */
  close(deadlineMs?: number): Promise<void>;
  stats(): WebhookStats[];
}

interface Delivery {
  id: string;
  type: string;
  body: string;
}

type AttemptResult =
  | { outcome: 'delivered'; status: number }
  | { outcome: 'retry'; status?: number; error?: string; retryAfterMs?: number }
  | { outcome: 'failed'; status: number };

/**
 * Whether a webhook subscribes to an event: no `events` means all; globs use `*` and `?`. An
 * emergency change is the `drift.opened` event it caused (`emergency: true`), so a webhook
 * subscribed to `emergency.change` (the type older versions sent on its own) receives those too.
 */
export function webhookWantsEvent(
  webhook: Pick<WebhookConfig, 'events'>,
  type: string,
  event?: Pick<DriftEvent, 'data'>,
): boolean {
  if (webhook.events === undefined) return true;
  if (webhook.events.some((glob) => matchName(glob, type))) return true;
  const emergency = type === 'drift.opened' && (event?.data as { emergency?: boolean } | undefined)?.emergency === true;
  return emergency && webhook.events.some((glob) => matchName(glob, 'emergency.change'));
}

/** `Retry-After` as milliseconds (delta-seconds or an HTTP date), or undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Backoff before retry `retry` (1-based): equal jitter over a capped exponential. */
export function webhookBackoffDelay(retry: number, options: WebhookRetryOptions, random: () => number): number {
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.max(0, retry - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

function errorLabel(error: unknown): string {
  if (!(error instanceof Error)) return 'error';
  if (error.name === 'TimeoutError') return 'timeout';
  if (error.name === 'AbortError') return 'aborted';
  const cause = error.cause as { code?: unknown } | undefined;
  return typeof cause?.code === 'string' ? cause.code : error.name;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export function createWebhookDispatcher({
  webhooks,
  logger,
  fetchImpl = fetch,
  retry = DEFAULT_WEBHOOK_RETRY,
  random = Math.random,
  timeoutMs = DEFAULT_WEBHOOK_TIMEOUT_MS,
  maxQueue = DEFAULT_WEBHOOK_QUEUE_SIZE,
  userAgent = `envparity/${AGGREGATOR_PACKAGE_VERSION}`,
  now = Date.now,
}: WebhookDispatcherOptions): WebhookDispatcher {
  const retryOptions: WebhookRetryOptions = { ...DEFAULT_WEBHOOK_RETRY, ...retry };
  retryOptions.attempts = Math.max(1, Math.floor(retryOptions.attempts));
  const aborter = new AbortController();
  let closing = false;

  class WebhookQueue {
    readonly host: string;
    readonly pending: Delivery[] = [];
    delivered = 0;
    failed = 0;
    dropped = 0;
    /** Drops since the queue last ran empty: one warning per overflow episode, not one per event. */
    droppedInEpisode = 0;
    inFlight = false;
    running: Promise<void> | undefined;

    constructor(
      readonly index: number,
      readonly config: WebhookConfig,
    ) {
      this.host = new URL(config.url).host;
    }

    get logFields() {
      return { webhook: this.index, host: this.host };
    }

    enqueue(delivery: Delivery): void {
      if (this.pending.length >= maxQueue) {
        const oldest = this.pending.shift();
        this.dropped += 1;
        this.droppedInEpisode += 1;
        if (this.droppedInEpisode === 1) {
          logger.warn(
            { ...this.logFields, maxQueue, droppedId: oldest?.id, droppedType: oldest?.type },
            'webhook queue full: dropping the oldest undelivered events until the receiver catches up',
          );
        }
      }
      this.pending.push(delivery);
      this.running ??= this.drain()
        .catch((error: unknown) =>
          logger.error({ ...this.logFields, err: { message: (error as Error)?.message } }, 'webhook worker failed'),
        )
        .finally(() => {
          this.running = undefined;
        });
    }

    async drain(): Promise<void> {
      for (let next = this.pending.shift(); next; next = this.pending.shift()) {
        if (aborter.signal.aborted) {
          this.pending.unshift(next);
          return;
        }
        this.inFlight = true;
        try {
          await this.deliver(next);
        } finally {
          this.inFlight = false;
        }
        if (this.pending.length === 0 && this.droppedInEpisode > 0) {
          logger.warn({ ...this.logFields, dropped: this.droppedInEpisode }, 'webhook queue drained after overflow');
          this.droppedInEpisode = 0;
        }
      }
    }

    async deliver(delivery: Delivery): Promise<void> {
      for (let attempt = 1; ; attempt++) {
        const result = await this.attempt(delivery);
        const fields = { ...this.logFields, id: delivery.id, type: delivery.type, attempt };
        if (result.outcome === 'delivered') {
          this.delivered += 1;
          logger.debug({ ...fields, status: result.status }, 'webhook delivered');
          return;
        }
        if (result.outcome === 'failed') {
          this.failed += 1;
          logger.warn({ ...fields, status: result.status }, 'webhook refused (not retried)');
          return;
        }
        if (attempt >= retryOptions.attempts || aborter.signal.aborted) {
          this.failed += 1;
          logger.warn(
            { ...fields, status: result.status, error: result.error, aborted: aborter.signal.aborted },
            'webhook delivery failed: giving up',
          );
          return;
        }
        const delayMs = Math.min(
          retryOptions.capMs,
          result.retryAfterMs ?? webhookBackoffDelay(attempt, retryOptions, random),
        );
        logger.info(
          { ...fields, status: result.status, error: result.error, delayMs },
          'webhook delivery failed: retrying',
        );
        await abortableSleep(delayMs, aborter.signal);
      }
    }

    async attempt(delivery: Delivery): Promise<AttemptResult> {
      const timestamp = String(Math.floor(now() / 1000));
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': userAgent,
        [WEBHOOK_EVENT_HEADER]: delivery.type,
        [WEBHOOK_DELIVERY_HEADER]: delivery.id,
      };
      if (this.config.secret) {
        headers[WEBHOOK_TIMESTAMP_HEADER] = timestamp;
        headers[WEBHOOK_SIGNATURE_HEADER] = signWebhookPayload(this.config.secret, timestamp, delivery.body);
      }
      try {
        const response = await fetchImpl(this.config.url, {
          method: 'POST',
          headers,
          body: delivery.body,
          // A redirect is not followed: re-posting a signed body to wherever it points is not ours to decide.
          redirect: 'manual',
          signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), aborter.signal]),
        });
        // The body is not needed; cancelling it frees the connection.
        await response.body?.cancel().catch(() => {});
        const { status } = response;
        if (status >= 200 && status < 300) return { outcome: 'delivered', status };
        if (status === 429 || status >= 500) {
          const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), now());
          return retryAfterMs === undefined ? { outcome: 'retry', status } : { outcome: 'retry', status, retryAfterMs };
        }
        return { outcome: 'failed', status };
      } catch (error) {
        return { outcome: 'retry', error: errorLabel(error) };
      }
    }
  }

  const queues = webhooks.map((config, index) => new WebhookQueue(index, config));

  function dispatch(event: DriftEvent): void {
    try {
      if (closing) {
        logger.debug({ type: event.type }, 'webhook dispatcher closed: event not sent');
        return;
      }
      const targets = queues.filter((queue) => webhookWantsEvent(queue.config, event.type, event));
      if (targets.length === 0) return;
      const id = randomUUID();
      const payload: WebhookPayload = {
        id,
        type: event.type,
        at: event.at,
        text: formatWebhookText(event),
        data: event.data,
      };
      const body = JSON.stringify(payload);
      for (const queue of targets) queue.enqueue({ id, type: event.type, body });
    } catch (error) {
      logger.error({ type: event?.type, err: { message: (error as Error)?.message } }, 'webhook dispatch failed');
    }
  }

  async function close(deadlineMs = DEFAULT_WEBHOOK_CLOSE_DEADLINE_MS): Promise<void> {
    closing = true;
    const all = Promise.all(queues.map((queue) => queue.running));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), deadlineMs);
    });
    const outcome = await Promise.race([all.then(() => 'done' as const), deadline]);
    clearTimeout(timer);
    if (outcome === 'deadline') {
      aborter.abort();
      await Promise.all(queues.map((queue) => queue.running));
    }
    for (const queue of queues) {
      if (queue.pending.length > 0) {
        queue.dropped += queue.pending.length;
        logger.warn(
          { ...queue.logFields, dropped: queue.pending.length, deadlineMs },
          'webhook dispatcher closed before these events were delivered',
        );
        queue.pending.length = 0;
      }
    }
  }

  function stats(): WebhookStats[] {
    return queues.map((queue) => ({
      index: queue.index,
      host: queue.host,
      queued: queue.pending.length + (queue.inFlight ? 1 : 0),
      delivered: queue.delivered,
      failed: queue.failed,
      dropped: queue.dropped,
    }));
  }

  return { dispatch, close, stats };
}
