/**
 * Issue 10, failure 8: `collect` floods drove the agent to 125% CPU and 118k log lines in 12 s,
 * `resync` floods gave 129 full reports in 12 s. The real agent bin against a fake aggregator that
 * floods it: collections and resync reports run at most once per 10 s (the rest coalesced), the
 * agent's own CPU time over the flood stays under a quarter of one core, and its log stays short.
 *
 * The CPU bound is a quarter, not a tenth: on a quiet machine the agent spends 6-8% of a core
 * decoding 1,000 frames a second, but CI runs this file beside others on two cores and the same
 * work measured 12% there. A quarter still fails the regression this guards (125% of a core).
 */
import { readFileSync } from 'node:fs';
import { encodeMessage, type ServerMessage } from '@envparity/shared';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type AgentHandle, cleanupProcesses, sleep, startAgent, waitFor } from '../helpers/index.js';
import { FakeAggregator, type FakeSession, minimalAgentConfig } from './fake-aggregator.js';

const fakes: FakeAggregator[] = [];
afterEach(async () => {
  await cleanupProcesses();
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});

const CLOCK_TICKS_PER_SECOND = 100;
const FLOOD_MS = 6_000;
const MESSAGES_PER_SECOND = 1_000;
/** Share of one core the agent may spend over the flood (the unpaced agent spent 1.25). */
const MAX_CPU_SHARE = 0.25;

/** utime + stime of a process, in seconds of CPU (from /proc/<pid>/stat). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields after the command name start at field 3 (state): utime is field 14, stime field 15.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

async function flood(session: FakeSession, message: ServerMessage): Promise<void> {
  const frame = encodeMessage(message);
  const perTick = MESSAGES_PER_SECOND / 100;
  const end = Date.now() + FLOOD_MS;
  while (Date.now() < end && session.socket.readyState === WebSocket.OPEN) {
    for (let i = 0; i < perTick; i++) session.socket.send(frame, { binary: true });
    await sleep(10);
  }
}

async function connectedAgent(hostId: string): Promise<{ agent: AgentHandle; fake: FakeAggregator }> {
  const fake = await FakeAggregator.start();
  fakes.push(fake);
  const agent = await startAgent({
    aggregatorUrl: fake.url,
    hostId,
    environment: 'test',
    config: minimalAgentConfig(),
    env: { ENVPARITY_SECURITY_TEST: 'on' },
    logLevel: 'debug',
  });
  await waitFor(() => fake.messages('report').length > 0, { timeoutMs: 20_000, message: 'the first report' });
  // Let the start-up settle (first pass, acks) before measuring.
  await sleep(1_500);
  return { agent, fake };
}

function linesSince(agent: AgentHandle, from: number, msg: string): number {
  return agent.process.jsonLogs(from).filter((line) => line.msg === msg).length;
}

describe('aggregator request floods', () => {
  it('a collect flood is coalesced: at most one pass per 10 s, under a quarter of a core, a short log', async () => {
    const { agent, fake } = await connectedAgent('flood-collect');
    const session = fake.sessions.at(-1) as FakeSession;
    const logsBefore = agent.logs.length;
    const cpuBefore = cpuSeconds(agent.pid);
    const startedAt = Date.now();
    await flood(session, { type: 'collect' });
    const cpu = cpuSeconds(agent.pid) - cpuBefore;
    const wall = (Date.now() - startedAt) / 1000;
    const passes = linesSince(agent, logsBefore, 'collection pass done');
    const lines = agent.logs.length - logsBefore;
    expect(cpu / wall, `agent CPU ${cpu.toFixed(2)} s over ${wall.toFixed(1)} s`).toBeLessThan(MAX_CPU_SHARE);
    expect(passes).toBeGreaterThanOrEqual(1);
    expect(passes).toBeLessThanOrEqual(2);
    expect(lines).toBeLessThan(100);
    // The coalesced requests run once the interval is over: the agent is not deaf, only paced.
    await waitFor(() => linesSince(agent, logsBefore, 'collection pass done') >= passes + 1, {
      timeoutMs: 15_000,
      message: 'the coalesced pass',
    });
    expect(agent.process.running).toBe(true);
  }, 60_000);

  it('a resync flood sends at most one full report per 10 s', async () => {
    const { agent, fake } = await connectedAgent('flood-resync');
    const session = fake.sessions.at(-1) as FakeSession;
    const reportsBefore = fake.messages('report').length;
    const cpuBefore = cpuSeconds(agent.pid);
    const startedAt = Date.now();
    await flood(session, { type: 'resync', reason: 'flood', categories: ['config'] });
    const cpu = cpuSeconds(agent.pid) - cpuBefore;
    const wall = (Date.now() - startedAt) / 1000;
    const reports = fake.messages('report').slice(reportsBefore);
    expect(reports.length).toBeGreaterThanOrEqual(1);
    expect(reports.length).toBeLessThanOrEqual(1 + Math.floor(FLOOD_MS / 10_000));
    expect(reports[0]?.full?.config).toBeDefined();
    expect(cpu / wall, `agent CPU ${cpu.toFixed(2)} s over ${wall.toFixed(1)} s`).toBeLessThan(MAX_CPU_SHARE);
    expect(agent.process.running).toBe(true);
  }, 60_000);
});
