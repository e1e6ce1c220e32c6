import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { DriftEvent } from '../drift/events.js';
import { AGGREGATOR_PACKAGE_VERSION } from '../version.js';
import { createWebhookDispatcher, parseRetryAfter, type WebhookDispatcherOptions } from './dispatcher.js';
import { verifyWebhookSignature } from './signature.js';

interface Received {
  url: string;
  headers: IncomingHttpHeaders;
  raw: string;
  body: { id: string; type: string; at: string; text: string; data: Record<string, unknown> };
}

type Reply = { status: number; headers?: Record<string, string> } | 'hang';

/** A real HTTP receiver on 127.0.0.1: records every request and answers from a script (then 200). */
async function startReceiver(script: Reply[] = []) {
  const received: Received[] = [];
  const hanging: ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      received.push({ url: req.url ?? '', headers: req.headers, raw, body: JSON.parse(raw) });
      const reply = script.shift() ?? { status: 200 };
      if (reply === 'hang') {
        hanging.push(res);
        return;
      }
      res.writeHead(reply.status, reply.headers ?? {});
      res.end('ok');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const receiver = {
    received,
    base: `http://127.0.0.1:${port}`,
    /** Answers every held request with 200. */
    release() {
      for (const res of hanging.splice(0)) res.writeHead(200).end('ok');
    },
    async close() {
      receiver.release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  receivers.push(receiver);
  return receiver;
}

const receivers: Array<{ close(): Promise<void> }> = [];
const dispatchers: Array<{ close(deadlineMs?: number): Promise<void> }> = [];

afterEach(async () => {
  await Promise.all(dispatchers.splice(0).map((d) => d.close(100)));
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

function captureLogger() {
  const lines: Array<Record<string, unknown> & { msg: string }> = [];
  const raw: string[] = [];
  const logger = pino(
    { level: 'debug' },
    {
      write(line: string) {
        raw.push(line);
        lines.push(JSON.parse(line));
      },
    },
  );
  return { logger, lines, raw };
}

const FAST_RETRY = { attempts: 6, baseMs: 2, capMs: 10 };

function makeDispatcher(options: Partial<WebhookDispatcherOptions> & Pick<WebhookDispatcherOptions, 'webhooks'>) {
  const logs = captureLogger();
  const dispatcher = createWebhookDispatcher({ logger: logs.logger, retry: FAST_RETRY, random: () => 0.5, ...options });
  dispatchers.push(dispatcher);
  return { dispatcher, logs };
}

async function waitFor(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error('waitFor: timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const AT = '2026-05-04T10:00:00.000Z';

const opened: DriftEvent = {
  type: 'drift.opened',
  at: AT,
  data: {
    id: 'd1',
    kind: 'outlier',
    environment: 'production',
    hostId: 'p3',
    path: 'config.env.LOG_LEVEL',
    expected: 'info',
    actual: 'debug',
    status: 'open',
    openedAt: AT,
  },
};
const resolved: DriftEvent = { ...opened, type: 'drift.resolved', data: { ...opened.data, status: 'resolved' } };
const emergency: DriftEvent = {
  type: 'emergency.change',
  at: AT,
  data: {
    id: 'e1',
    hostId: 'p3',
    environment: 'production',
    upstream: 'staging',
    path: 'config.env.LOG_LEVEL',
    previous: 'info',
    value: 'debug',
    changedAt: AT,
  },
};
const expired: DriftEvent = {
  type: 'exception.expired',
  at: AT,
  data: { id: 'x1', path: 'config.env.*', environments: ['staging', 'production'], reason: 'load test', owner: 'sre' },
};

describe('createWebhookDispatcher', () => {
  it('POSTs the JSON payload with headers and a signature the helper verifies', async () => {
    const receiver = await startReceiver();
    const secret = 'whsec-test-1';
    const { dispatcher } = makeDispatcher({ webhooks: [{ url: `${receiver.base}/hook`, secret }] });

    dispatcher.dispatch(opened);
    await waitFor(() => dispatcher.stats()[0]?.delivered === 1);

    const [request] = receiver.received;
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['user-agent']).toBe(`envparity/${AGGREGATOR_PACKAGE_VERSION}`);
    expect(request?.headers['x-envparity-event']).toBe('drift.opened');
    expect(request?.body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(request?.headers['x-envparity-delivery']).toBe(request?.body.id);
    expect(request?.body).toEqual({
      id: request?.body.id,
      type: 'drift.opened',
      at: AT,
      text:
        'Drift opened in production: host p3 config.env.LOG_LEVEL is "debug", baseline "info". ' +
        'To do: bring the host back to the baseline, or record an exception if intended.',
      data: opened.data,
    });

    const timestamp = request?.headers['x-envparity-timestamp'] as string;
    const signature = request?.headers['x-envparity-signature'] as string;
    expect(timestamp).toMatch(/^\d+$/);
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    const raw = request?.raw ?? '';
    expect(verifyWebhookSignature(secret, timestamp, raw, signature)).toBe(true);
    expect(verifyWebhookSignature(secret, timestamp, Buffer.from(raw), signature)).toBe(true);
    expect(verifyWebhookSignature('other-secret', timestamp, raw, signature)).toBe(false);
    expect(verifyWebhookSignature(secret, timestamp, raw.replace('debug', 'trace'), signature)).toBe(false);
    expect(verifyWebhookSignature(secret, String(Number(timestamp) + 1), raw, signature)).toBe(false);
    expect(dispatcher.stats()[0]).toMatchObject({ delivered: 1, failed: 0, dropped: 0, queued: 0 });
  });

  it('sends no signature headers when the webhook has no secret', async () => {
    const receiver = await startReceiver();
    const { dispatcher } = makeDispatcher({ webhooks: [{ url: receiver.base }] });
    dispatcher.dispatch(emergency);
    await waitFor(() => receiver.received.length === 1);
    expect(receiver.received[0]?.headers['x-envparity-signature']).toBeUndefined();
    expect(receiver.received[0]?.headers['x-envparity-timestamp']).toBeUndefined();
    expect(receiver.received[0]?.body.text).toBe(
      'Emergency change on p3 (production): config.env.LOG_LEVEL changed from "info" to "debug", never seen in staging',
    );
  });

  it('retries after two 500s and then succeeds, re-signing each attempt with the same delivery id', async () => {
    const receiver = await startReceiver([{ status: 500 }, { status: 503 }]);
    const secret = 's3cr3t';
    const { dispatcher, logs } = makeDispatcher({ webhooks: [{ url: receiver.base, secret }] });

    dispatcher.dispatch(opened);
    await waitFor(() => dispatcher.stats()[0]?.delivered === 1);

    expect(receiver.received).toHaveLength(3);
    const ids = new Set(receiver.received.map((r) => r.headers['x-envparity-delivery']));
    expect(ids.size).toBe(1);
    for (const r of receiver.received) {
      expect(
        verifyWebhookSignature(
          secret,
          r.headers['x-envparity-timestamp'] as string,
          r.raw,
          r.headers['x-envparity-signature'] as string,
        ),
      ).toBe(true);
    }
    const retries = logs.lines.filter((l) => l.msg === 'webhook delivery failed: retrying');
    expect(retries.map((l) => [l.status, l.attempt])).toEqual([
      [500, 1],
      [503, 2],
    ]);
    expect(dispatcher.stats()[0]).toMatchObject({ delivered: 1, failed: 0 });
  });

  it('honours Retry-After on 429, capped by capMs', async () => {
    const receiver = await startReceiver([
      { status: 429, headers: { 'retry-after': '0' } },
      { status: 429, headers: { 'retry-after': '3600' } },
    ]);
    const { dispatcher, logs } = makeDispatcher({
      webhooks: [{ url: receiver.base }],
      retry: { attempts: 4, baseMs: 20, capMs: 30 },
      random: () => 0,
    });

    dispatcher.dispatch(resolved);
    await waitFor(() => dispatcher.stats()[0]?.delivered === 1);

    expect(receiver.received).toHaveLength(3);
    // Backoff alone would wait 10 ms then 20 ms (random 0: half of 20, 40 capped to 30);
    // Retry-After says 0 s, then one hour, capped to 30 ms.
    const delays = logs.lines.filter((l) => l.msg === 'webhook delivery failed: retrying').map((l) => l.delayMs);
    expect(delays).toEqual([0, 30]);
  });

  it('does not retry a 400, and goes on with the next event', async () => {
    const receiver = await startReceiver([{ status: 400 }]);
    const { dispatcher, logs } = makeDispatcher({ webhooks: [{ url: receiver.base }] });

    dispatcher.dispatch(opened);
    dispatcher.dispatch(resolved);
    await waitFor(() => dispatcher.stats()[0]?.delivered === 1);

    expect(receiver.received.map((r) => r.body.type)).toEqual(['drift.opened', 'drift.resolved']);
    expect(dispatcher.stats()[0]).toMatchObject({ delivered: 1, failed: 1 });
    expect(logs.lines.find((l) => l.msg === 'webhook refused (not retried)')).toMatchObject({
      status: 400,
      attempt: 1,
      type: 'drift.opened',
    });
  });

  it('does not follow redirects', async () => {
    const receiver = await startReceiver([{ status: 302, headers: { location: 'http://127.0.0.1:1/elsewhere' } }]);
    const { dispatcher } = makeDispatcher({ webhooks: [{ url: receiver.base }] });
    dispatcher.dispatch(opened);
    await waitFor(() => dispatcher.stats()[0]?.failed === 1);
    expect(receiver.received).toHaveLength(1);
  });

  it('filters event types with the events globs', async () => {
    const receiver = await startReceiver();
    const { dispatcher } = makeDispatcher({
      webhooks: [
        { url: `${receiver.base}/drift`, events: ['drift.*'] },
        { url: `${receiver.base}/emergency`, events: ['emergency.change', 'exception.*'] },
        { url: `${receiver.base}/all` },
        { url: `${receiver.base}/none`, events: [] },
      ],
    });

    for (const event of [opened, resolved, emergency, expired]) dispatcher.dispatch(event);
    await dispatcher.close(5000);

    const typesAt = (path: string) => receiver.received.filter((r) => r.url === path).map((r) => r.body.type);
    expect(typesAt('/drift')).toEqual(['drift.opened', 'drift.resolved']);
    expect(typesAt('/emergency')).toEqual(['emergency.change', 'exception.expired']);
    expect(typesAt('/all')).toEqual(['drift.opened', 'drift.resolved', 'emergency.change', 'exception.expired']);
    expect(typesAt('/none')).toEqual([]);
    const stats = dispatcher.stats();
    expect(stats.map((s) => s.delivered)).toEqual([2, 2, 4, 0]);
    expect(receiver.received).toHaveLength(8);
  });

  it('sends an emergency drift.opened to webhooks subscribed to emergency.change (one call per cause)', async () => {
    const receiver = await startReceiver();
    const { dispatcher } = makeDispatcher({
      webhooks: [
        { url: `${receiver.base}/emergency`, events: ['emergency.change'] },
        { url: `${receiver.base}/drift`, events: ['drift.*'] },
      ],
    });
    const hotfix: DriftEvent = {
      ...opened,
      data: { ...(opened.data as object), emergency: true, upstream: 'staging' },
    } as DriftEvent;
    dispatcher.dispatch(opened);
    dispatcher.dispatch(hotfix);
    await dispatcher.close(5000);
    const at = (path: string) => receiver.received.filter((r) => r.url === path).map((r) => r.body.data.emergency);
    expect(at('/emergency')).toEqual([true]);
    expect(at('/drift')).toEqual([undefined, true]);
  });

  it('retries network errors and timeouts, then gives up after the last attempt', async () => {
    const receiver = await startReceiver(['hang']);
    const closedPort = await startReceiver();
    const deadUrl = closedPort.base;
    await closedPort.close();
    const { dispatcher, logs } = makeDispatcher({
      webhooks: [{ url: receiver.base }, { url: deadUrl }],
      retry: { attempts: 3, baseMs: 2, capMs: 10 },
      timeoutMs: 200,
    });

    dispatcher.dispatch(opened);
    await waitFor(() => dispatcher.stats()[0]?.delivered === 1 && dispatcher.stats()[1]?.failed === 1);

    const errors = logs.lines
      .filter((l) => l.msg === 'webhook delivery failed: retrying')
      .map((l) => [l.webhook, l.error]);
    expect(errors).toContainEqual([0, 'timeout']);
    expect(errors).toContainEqual([1, 'ECONNREFUSED']);
    expect(logs.lines.find((l) => l.msg === 'webhook delivery failed: giving up')).toMatchObject({
      webhook: 1,
      attempt: 3,
      error: 'ECONNREFUSED',
    });
  });

  it('bounds the queue: drops the oldest events with one warning per overflow episode', async () => {
    const receiver = await startReceiver(['hang']);
    const { dispatcher, logs } = makeDispatcher({ webhooks: [{ url: receiver.base }], maxQueue: 2 });

    const events = ['a', 'b', 'c', 'd', 'e'].map(
      (id): DriftEvent => ({ ...opened, data: { ...opened.data, id, path: `config.env.${id.toUpperCase()}` } }),
    );
    for (const event of events) dispatcher.dispatch(event);
    expect(dispatcher.stats()[0]).toMatchObject({ queued: 3, dropped: 2 });
    expect(logs.lines.filter((l) => l.msg.startsWith('webhook queue full'))).toHaveLength(1);

    await waitFor(() => receiver.received.length === 1);
    receiver.release();
    await waitFor(() => dispatcher.stats()[0]?.delivered === 3);
    expect(receiver.received.map((r) => (r.body.data as { id: string }).id)).toEqual(['a', 'd', 'e']);
    expect(logs.lines.find((l) => l.msg === 'webhook queue drained after overflow')).toMatchObject({ dropped: 2 });
  });

  it('close() flushes the queue, and gives up at its deadline', async () => {
    const receiver = await startReceiver(['hang']);
    const { dispatcher, logs } = makeDispatcher({ webhooks: [{ url: receiver.base }] });
    dispatcher.dispatch(opened);
    dispatcher.dispatch(resolved);
    await waitFor(() => receiver.received.length === 1);

    await dispatcher.close(50);
    expect(dispatcher.stats()[0]).toMatchObject({ delivered: 0, failed: 1, dropped: 1, queued: 0 });
    expect(
      logs.lines.find((l) => l.msg === 'webhook dispatcher closed before these events were delivered'),
    ).toMatchObject({ dropped: 1 });

    dispatcher.dispatch(expired);
    expect(dispatcher.stats()[0]?.queued).toBe(0);
  });

  it('never logs the secret or the URL path', async () => {
    const receiver = await startReceiver([{ status: 500 }, { status: 400 }]);
    const secret = 'TOP-SECRET-hmac-key';
    const { dispatcher, logs } = makeDispatcher({
      webhooks: [{ url: `${receiver.base}/services/T000/B000/XXXXPATHSECRET`, secret }],
    });
    dispatcher.dispatch(opened);
    await waitFor(() => dispatcher.stats()[0]?.failed === 1);
    const all = logs.raw.join('');
    expect(all).not.toContain(secret);
    expect(all).not.toContain('XXXXPATHSECRET');
    expect(logs.lines.find((l) => l.msg === 'webhook delivery failed: retrying')).toMatchObject({
      host: new URL(receiver.base).host,
      type: 'drift.opened',
      status: 500,
      attempt: 1,
    });
  });
});

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP dates', () => {
    expect(parseRetryAfter('5')).toBe(5000);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
  });
});
