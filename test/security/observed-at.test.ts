/**
 * Issue 10, failure 6: a report with a far-future `observedAt` (over 8.64e15 ms) was stored, and
 * from then on `GET /hosts/:id/changes` answered 500. Against the real aggregator bin: such a report
 * is refused (4002, nothing stored), a merely skewed one (30 days ahead) is stored clamped to server
 * time + 1 day and the host is flagged `meta.clockSkewMs`; the changes route keeps answering 200.
 */
import { encodeMessage } from '@envparity/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { type ApiChange, cleanupProcesses, startAggregator, TEST_ENROLL_SECRET } from '../helpers/index.js';
import { RawAgent } from './raw-agent.js';

afterEach(() => cleanupProcesses());

const DAY_MS = 24 * 60 * 60 * 1000;

const identity = { v: 1, hostId: 'skewed-1', environment: 'test', labels: {}, agentVersion: '0.0.0-test' };

describe('report timestamps', () => {
  it('refuses an observedAt past the Date range, and clamps and flags a skewed clock', async () => {
    const aggregator = await startAggregator();
    const first = await RawAgent.connect(aggregator.wsUrl);
    first.send({ type: 'enroll', ...identity, enrollSecret: TEST_ENROLL_SECRET });
    const { token } = await first.next('enrolled');
    first.send({ type: 'hello', ...identity, token, lastAckedSeq: 0, fingerprints: {} });
    await first.next('welcome');
    first.socket.send(
      encodeMessage({ type: 'report', seq: 1, observedAt: Date.now(), full: { config: { 'config.env.A': '1' } } }),
    );
    await first.next('ack');
    // Past 8.64e15: `new Date()` of it is invalid. Sent raw: the shared encoder refuses it too.
    first.send({
      type: 'report',
      seq: 2,
      observedAt: 8.64e15 + 1,
      delta: { config: { set: { 'config.env.A': '2' }, unset: [] } },
    });
    const closed = await first.waitClosed();
    expect(closed.code).toBe(4002);
    expect(closed.reason).toContain('observedAt');

    const second = await RawAgent.connect(aggregator.wsUrl);
    second.send({ type: 'hello', ...identity, token, lastAckedSeq: 1, fingerprints: {} });
    expect((await second.next('welcome')).lastSeq).toBe(1);
    const sentAt = Date.now();
    second.send({
      type: 'report',
      seq: 2,
      observedAt: sentAt + 30 * DAY_MS,
      delta: { config: { set: { 'config.env.A': '3' }, unset: [] } },
    });
    expect((await second.next('ack')).seq).toBe(2);

    const changes = await aggregator.api('/api/v1/hosts/skewed-1/changes');
    expect(changes.status).toBe(200);
    const body = (await changes.json()) as { changes: ApiChange[] };
    const change = body.changes.find((c) => c.to === '3');
    expect(change).toBeDefined();
    const at = Date.parse(String(change?.at));
    expect(at).toBeLessThanOrEqual(Date.now() + DAY_MS);
    expect(at).toBeGreaterThanOrEqual(sentAt + DAY_MS - 60_000);
    expect(body.changes.some((c) => c.to === '2')).toBe(false);

    const host = await aggregator.json<{ meta?: { clockSkewMs?: number } }>('/api/v1/hosts/skewed-1');
    expect(host.meta?.clockSkewMs).toBeGreaterThan(29 * DAY_MS);

    // A report with a right clock clears the flag.
    second.send({
      type: 'report',
      seq: 3,
      observedAt: Date.now(),
      delta: { config: { set: { 'config.env.A': '4' }, unset: [] } },
      meta: { durationMs: 1 },
    });
    await second.next('ack');
    const cleared = await aggregator.json<{ meta?: { clockSkewMs?: number } }>('/api/v1/hosts/skewed-1');
    expect(cleared.meta?.clockSkewMs).toBeUndefined();
    second.socket.close();
  });
});
