import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeUnanswered, firstAnsweringAggregator } from './answering-aggregator.js';

/** A real HTTP probe of real sockets: one server that answers, one port where nothing listens. */
async function probe(url: string): Promise<void> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`answered ${response.status}`);
}

describe('firstAnsweringAggregator', () => {
  let server: Server;
  let answering: string;
  let deadPort: string;

  beforeAll(async () => {
    server = createServer((request, response) => {
      response.writeHead(request.url === '/healthz' ? 200 : 503).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    answering = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    deadPort = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('skips the URLs that do not answer, in order, and says why each failed', async () => {
    const choice = await firstAnsweringAggregator(
      [`${deadPort}/healthz`, `${answering}/down`, `${answering}/healthz`],
      probe,
    );
    expect(choice.url).toBe(`${answering}/healthz`);
    expect(choice.noneAnswered).toBe(false);
    expect(choice.failures).toHaveLength(2);
    expect(choice.failures[0]).toMatch(/^\[0\] http:\/\/127\.0\.0\.1:\d+\/healthz: /);
    expect(choice.failures[1]).toContain('[1]');
    expect(choice.failures[1]).toContain('answered 503');
  });

  it('falls back to the first URL when none answers, naming every failure with credentials redacted', async () => {
    const withCredentials = deadPort.replace('http://', 'http://user:secret@');
    const choice = await firstAnsweringAggregator([withCredentials, `${answering}/down`], probe);
    expect(choice).toMatchObject({ url: withCredentials, noneAnswered: true });
    const line = describeUnanswered(choice);
    expect(line).toMatch(/^no aggregator answered: \[0\] http:\/\/127\.0\.0\.1:\d+\/: .+; \[1\] .+answered 503$/);
    expect(line).not.toContain('secret');
  });
});
