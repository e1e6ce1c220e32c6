/**
 * Issue 10, failures 2, 3 and 4: the real agent process (built bin) against a hostile aggregator
 * written here with `ws`, on 127.0.0.1. Nothing the aggregator sends, and nothing left in the state
 * dir, may wedge the agent (no more decodable reports) or end it with a stack trace.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_SEQ, type ReportMessage } from '@envparity/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProcesses, makeTempDir, startAgent, waitFor } from '../helpers/index.js';
import { FAKE_FLEET_KEY, FakeAggregator, type FakeAggregatorScript, minimalAgentConfig } from './fake-aggregator.js';

const fakes: FakeAggregator[] = [];
afterEach(async () => {
  await cleanupProcesses();
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});

async function fake(script: FakeAggregatorScript = {}): Promise<FakeAggregator> {
  const started = await FakeAggregator.start(script);
  fakes.push(started);
  return started;
}

const ENV = { ENVPARITY_SECURITY_TEST: 'on' };

/** Reports that reached the wire and decode with the shared decoder. */
function decodableReports(aggregator: FakeAggregator): ReportMessage[] {
  return aggregator.messages('report');
}

describe('a hostile welcome.lastSeq (2^53-1) does not wedge the agent', () => {
  it('keeps sending decodable reports with sane seqs, and clamps a 1e10 s heartbeat', async () => {
    const aggregator = await fake({
      onMessage(session, message) {
        FakeAggregator.answer(session, message, { lastSeq: 2 ** 53 - 1, heartbeatSeconds: 1e10 } as never);
      },
    });
    const dir = await makeTempDir('envparity-security-wedge-');
    const watched = join(dir, 'app.json');
    await writeFile(watched, JSON.stringify({ level: 'info' }));
    const agent = await startAgent({
      aggregatorUrl: aggregator.url,
      hostId: 'wedge-1',
      environment: 'test',
      config: minimalAgentConfig({ watch: { files: [watched] } }),
      env: ENV,
    });
    const first = await waitFor(() => decodableReports(aggregator)[0], {
      timeoutMs: 20_000,
      message: 'a first decodable report',
    });
    expect(first.seq).toBeGreaterThanOrEqual(1);
    expect(first.seq).toBeLessThanOrEqual(MAX_SEQ);
    await writeFile(watched, JSON.stringify({ level: 'debug' }));
    const second = await waitFor(() => decodableReports(aggregator).find((r) => r.seq > first.seq), {
      timeoutMs: 20_000,
      message: 'a decodable report after a change',
    });
    expect(second.seq).toBe(first.seq + 1);
    expect(second.delta?.config?.set).toBeDefined();
    // Nothing undecodable ever reached the wire, and the heartbeat timer did not collapse to 1 ms.
    expect(aggregator.frames.filter((f) => f.error)).toEqual([]);
    expect(aggregator.messages('heartbeat').length).toBeLessThan(5);
    expect(agent.process.running).toBe(true);
    expect(agent.process.jsonLogs().some((l) => String(l.msg).includes('past the safe range'))).toBe(true);
  });

  it('renumbers a state.json holding 2^53-1 and reports again', async () => {
    const aggregator = await fake();
    const stateDir = await makeTempDir('envparity-security-state-');
    await writeFile(join(stateDir, 'fleet.key'), `${FAKE_FLEET_KEY}\n`, { mode: 0o600 });
    await writeFile(join(stateDir, 'agent-token'), 'a-previous-token\n', { mode: 0o600 });
    await writeFile(
      join(stateDir, 'state.json'),
      JSON.stringify({ lastAckedSeq: 2 ** 53 - 2, nextSeq: 2 ** 53 - 1, synced: true }),
    );
    const agent = await startAgent({
      aggregatorUrl: aggregator.url,
      hostId: 'wedge-2',
      environment: 'test',
      stateDir,
      config: minimalAgentConfig(),
      env: ENV,
    });
    const report = await waitFor(() => decodableReports(aggregator)[0], {
      timeoutMs: 20_000,
      message: 'a decodable report',
    });
    expect(report.seq).toBe(1);
    expect(aggregator.frames.filter((f) => f.error)).toEqual([]);
    expect(agent.process.jsonLogs().some((l) => String(l.msg).includes('renumbering'))).toBe(true);
    const state = JSON.parse(await readFile(join(stateDir, 'state.json'), 'utf8')) as { nextSeq: number };
    expect(state.nextSeq).toBeLessThan(100);
  });
});

describe('tokens over 512 characters never crash the agent', () => {
  const badTokens: [string, Buffer][] = [
    ['a 600-byte garbage file', randomBytes(600)],
    ['a 600-character printable token', Buffer.from('t'.repeat(600))],
  ];

  it.each(badTokens)('%s in agent-token: discarded, re-enrolled with the enroll secret', async (_name, token) => {
    const aggregator = await fake();
    const stateDir = await makeTempDir('envparity-security-token-');
    await writeFile(join(stateDir, 'fleet.key'), `${FAKE_FLEET_KEY}\n`, { mode: 0o600 });
    await writeFile(join(stateDir, 'agent-token'), token, { mode: 0o600 });
    const agent = await startAgent({
      aggregatorUrl: aggregator.url,
      hostId: 'token-1',
      environment: 'test',
      stateDir,
      config: minimalAgentConfig(),
      env: ENV,
    });
    await waitFor(() => decodableReports(aggregator)[0], { timeoutMs: 20_000, message: 'a report after re-enrolling' });
    expect(aggregator.messages('enroll')).toHaveLength(1);
    expect(agent.process.jsonLogs().some((l) => l.msg === 'agent token discarded: re-enrolling')).toBe(true);
    expect((await readFile(join(stateDir, 'agent-token'), 'utf8')).trim().length).toBeLessThanOrEqual(512);
  });

  it.each(badTokens)('%s and no enroll secret: exits 2 with a clear message, no stack trace', async (_name, token) => {
    const aggregator = await fake();
    const stateDir = await makeTempDir('envparity-security-token-');
    await writeFile(join(stateDir, 'fleet.key'), `${FAKE_FLEET_KEY}\n`, { mode: 0o600 });
    await writeFile(join(stateDir, 'agent-token'), token, { mode: 0o600 });
    const agent = await startAgent({
      aggregatorUrl: aggregator.url,
      hostId: 'token-2',
      environment: 'test',
      stateDir,
      config: minimalAgentConfig(),
      env: { ...ENV, ENVPARITY_ENROLL_SECRET: '' },
      waitConnected: false,
    });
    const exit = await agent.process.exited;
    expect(exit.code).toBe(2);
    const stderr = agent.logs.filter((line) => line.startsWith('[stderr] ')).join('\n');
    expect(stderr).toContain('agent-token');
    expect(stderr).toContain('not a usable credential');
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(aggregator.connections).toBe(0);
  });

  it('a hostile enrolled.token of 600 characters is refused, and the agent keeps retrying', async () => {
    const aggregator = await fake({
      onMessage(session, message) {
        if (message.type === 'enroll') {
          session.sendRaw({ type: 'enrolled', hostId: message.hostId, token: 'x'.repeat(600), fleetKey: 'k' });
        }
      },
    });
    const agent = await startAgent({
      aggregatorUrl: aggregator.url,
      hostId: 'token-3',
      environment: 'test',
      config: minimalAgentConfig(),
      env: ENV,
      waitConnected: false,
    });
    await waitFor(() => aggregator.messages('enroll').length >= 2, {
      timeoutMs: 20_000,
      message: 'a second enrollment attempt',
    });
    expect(agent.process.running).toBe(true);
    expect(aggregator.messages('hello')).toHaveLength(0);
    await expect(readdir(agent.stateDir)).resolves.not.toContain('agent-token');
  });
});

describe('a report the aggregator rejects as invalid is quarantined, not replayed forever', () => {
  it('moves it to <state>/quarantine and goes on with a fresh full report', async () => {
    let rejectedSeq: number | undefined;
    const aggregator = await fake({
      onMessage(session, message) {
        if (message.type === 'report' && rejectedSeq === undefined) {
          rejectedSeq = message.seq;
          session.close(4002, 'report: full.config: path of category "os"');
          return;
        }
        FakeAggregator.answer(session, message);
      },
    });
    const agent = await startAgent({
      aggregatorUrl: aggregator.url,
      hostId: 'quarantine-1',
      environment: 'test',
      config: minimalAgentConfig(),
      env: ENV,
    });
    const fresh = await waitFor(
      () => aggregator.frames.find((f) => f.connection > 1 && f.message?.type === 'report')?.message as ReportMessage,
      { timeoutMs: 30_000, message: 'a report on a later connection' },
    );
    expect(rejectedSeq).toBeDefined();
    expect(fresh.seq).toBeGreaterThan(rejectedSeq as number);
    expect(fresh.full?.config).toBeDefined();
    const replays = aggregator.messages('report').filter((r) => r.seq === rejectedSeq);
    expect(replays).toHaveLength(1);
    expect(await readdir(join(agent.stateDir, 'quarantine'))).toHaveLength(1);
    expect(await readdir(join(agent.stateDir, 'spool'))).not.toContain(
      `${String(rejectedSeq).padStart(16, '0')}.msgpack`,
    );
    expect(agent.process.jsonLogs().some((l) => String(l.msg).includes('quarantined'))).toBe(true);
  });
});
