/**
 * `startWebhookReceiver()`: a local HTTP receiver on 127.0.0.1 for the aggregator's `webhooks`
 * config. It answers 204 to every POST and keeps every delivery (parsed body, headers, whether the
 * HMAC signature checks out with `secret`), so tests can count notifications exactly.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface WebhookDelivery {
  /** When the receiver got it (ms). */
  receivedAt: number;
  headers: IncomingHttpHeaders;
  /** The raw body as received. */
  raw: string;
  body: { id: string; type: string; at: string; text: string; data: Record<string, unknown> };
  /** Signature check against the receiver's `secret` (true when no secret is set). */
  signatureOk: boolean;
}

export interface WebhookReceiver {
  readonly url: string;
  /** Every delivery, in arrival order (a live array). */
  readonly deliveries: WebhookDelivery[];
  /** Deliveries from index `from` on, optionally of one type. */
  since(from: number, type?: string): WebhookDelivery[];
  close(): Promise<void>;
}

function signatureMatches(secret: string, headers: IncomingHttpHeaders, raw: Buffer): boolean {
  const timestamp = headers['x-envparity-timestamp'];
  const signature = headers['x-envparity-signature'];
  if (typeof timestamp !== 'string' || typeof signature !== 'string') return false;
  const expected = Buffer.from(
    `sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(raw).digest('hex')}`,
  );
  return signature.split(',').some((part) => {
    const given = Buffer.from(part.trim());
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

export async function startWebhookReceiver({ secret }: { secret?: string } = {}): Promise<WebhookReceiver> {
  const deliveries: WebhookDelivery[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      let body: WebhookDelivery['body'];
      try {
        body = JSON.parse(raw.toString('utf8')) as WebhookDelivery['body'];
      } catch {
        res.writeHead(400).end();
        return;
      }
      deliveries.push({
        receivedAt: Date.now(),
        headers: req.headers,
        raw: raw.toString('utf8'),
        body,
        signatureOk: secret === undefined || signatureMatches(secret, req.headers, raw),
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/envparity`,
    deliveries,
    since: (from, type) => deliveries.slice(from).filter((d) => type === undefined || d.body.type === type),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
