/**
 * Issue 10, requirement 1: the protocol bounds enforced by the real aggregator bin. Each frame
 * past a bound closes only its socket with 4002 naming the field; nothing of it is stored.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AggregatorHandle,
  cleanupProcesses,
  makeTempDir,
  startAggregator,
  TEST_ENROLL_SECRET,
} from '../helpers/index.js';
import { RawAgent } from './raw-agent.js';

afterEach(() => cleanupProcesses());

const identity = { v: 1, hostId: 'bounds-1', environment: 'test', labels: {}, agentVersion: '0.0.0-test' };

async function readyAgent(aggregator: AggregatorHandle, token?: string): Promise<{ agent: RawAgent; token: string }> {
  const agent = await RawAgent.connect(aggregator.wsUrl);
  let current = token;
  if (!current) {
    agent.send({ type: 'enroll', ...identity, enrollSecret: TEST_ENROLL_SECRET });
    current = (await agent.next('enrolled')).token;
  }
  agent.send({ type: 'hello', ...identity, token: current, lastAckedSeq: 0, fingerprints: {} });
  await agent.next('welcome');
  return { agent, token: current };
}

describe('protocol bounds at the aggregator', () => {
  it('closes 4002 for a seq past 2^52, a value over 64 KB, an unknown category and a 600-char token', async () => {
    const aggregator = await startAggregator();
    const { agent: first, token } = await readyAgent(aggregator);
    first.send({ type: 'report', seq: 2 ** 53 - 1, observedAt: Date.now(), full: { os: { 'os.a': 1 } } });
    const seqClose = await first.waitClosed();
    expect(seqClose).toMatchObject({ code: 4002 });
    expect(seqClose.reason).toContain('seq');

    const { agent: second } = await readyAgent(aggregator, token);
    second.send({ type: 'report', seq: 1, observedAt: Date.now(), full: { os: { 'os.a': 'x'.repeat(70_000) } } });
    const valueClose = await second.waitClosed();
    expect(valueClose.code).toBe(4002);
    expect(valueClose.reason).toContain('65536-byte limit');

    const { agent: third } = await readyAgent(aggregator, token);
    third.send({ type: 'report', seq: 1, observedAt: Date.now(), full: { bogus: { 'bogus.a': 1 } } });
    const categoryClose = await third.waitClosed();
    expect(categoryClose.code).toBe(4002);
    expect(categoryClose.reason).toContain('not a known category');

    const fourth = await RawAgent.connect(aggregator.wsUrl);
    fourth.send({ type: 'hello', ...identity, token: 't'.repeat(600), lastAckedSeq: 0, fingerprints: {} });
    expect((await fourth.waitClosed()).code).toBe(4002);

    const host = await aggregator.json<{ lastSeq: number; facts: Record<string, unknown> }>('/api/v1/hosts/bounds-1');
    expect(host.lastSeq).toBe(0);
    expect(host.facts).toEqual({});
    const health = await fetch(new URL('/healthz', aggregator.url));
    expect(health.status).toBe(200);
  });

  it('refuses with 4002 a delta that would take a host past its path cap, keeping what it had', async () => {
    const dir = await makeTempDir('envparity-e2e-path-cap-');
    const file = join(dir, 'aggregator.yaml');
    await writeFile(file, 'maxPathsPerHost: 4\n');
    const aggregator = await startAggregator({ args: ['--config', file] });
    const { agent, token } = await readyAgent(aggregator);
    agent.send({ type: 'report', seq: 1, observedAt: Date.now(), full: { os: { 'os.a': 1, 'os.b': 2, 'os.c': 3 } } });
    expect(await agent.next('ack')).toMatchObject({ seq: 1 });
    // Small deltas, each valid on its own, add up past the cap.
    agent.send({
      type: 'report',
      seq: 2,
      observedAt: Date.now(),
      delta: { runtime: { set: { 'runtime.a': 1, 'runtime.b': 2 }, unset: [] } },
    });
    const closed = await agent.waitClosed();
    expect(closed.code).toBe(4002);
    expect(closed.reason).toContain('report 2 rejected: the host would hold 5 paths, over the 4-path limit');
    const host = await aggregator.json<{ lastSeq: number; facts: Record<string, unknown> }>('/api/v1/hosts/bounds-1');
    expect(host.lastSeq).toBe(1);
    expect(Object.keys(host.facts).sort()).toEqual(['os.a', 'os.b', 'os.c']);
    // The host goes on: a report within the cap is stored.
    const { agent: again } = await readyAgent(aggregator, token);
    again.send({
      type: 'report',
      seq: 3,
      observedAt: Date.now(),
      delta: { runtime: { set: { 'runtime.a': 1 }, unset: [] } },
    });
    expect(await again.next('ack')).toMatchObject({ seq: 3 });
  });
});
