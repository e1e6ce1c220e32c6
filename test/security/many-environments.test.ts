/**
 * Issue 10, failure 1: 150 hosts each in its own environment, no `promotion`: every pair was
 * compared (1.5 M drift-event rows, 1.4 GB), and after one more report `/healthz` got no answer for
 * ~39 s. Against the real aggregator bin, with simulated agents speaking the real protocol
 * (packages/loadgen, in a child process so the fleet's load does not skew the latency we measure):
 * 1,000 environments of one host each, no promotion, then changed reports after settling. `/healthz`,
 * polled every ~50 ms throughout, always answers, and no pair event ever opens. The target
 * is 100 ms; measured runs print their max (65-95 ms here). The assertion allows 500 ms: a blocked
 * event loop (the review saw 39 s) fails it, scheduler noise on two shared cores does not.
 * With `comparePairs`, only the named pairs get events.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

/** A stalled loop fails this at once; the 100 ms target is the printed measurement. */
const MAX_HEALTHZ_MS = 500;

import { type FleetProcess, forkFleet } from '../../packages/loadgen/dist/index.js';
import { type AggregatorHandle, cleanupProcesses, makeTempDir, startAggregator, waitFor } from '../helpers/index.js';

const fleets: FleetProcess[] = [];
afterEach(async () => {
  for (const fleet of fleets.splice(0)) await fleet.stop(5000);
  await cleanupProcesses();
});

const PREFIX = 'pr-';

interface DriftList {
  events: { kind: string; environment: string; otherEnvironment?: string; status: string }[];
  truncated: boolean;
}

/** Polls `/healthz` every ~50 ms (sequentially, each with its own timeout) until stopped. */
function pollHealth(url: string) {
  const latencies: number[] = [];
  const failures: string[] = [];
  /** Slow answers, with the phase they fell in (printed on failure). */
  const slow: string[] = [];
  const phase = { name: 'start', at: performance.now() };
  let running = true;
  const done = (async () => {
    while (running) {
      const started = performance.now();
      try {
        const response = await fetch(new URL('/healthz', url), { signal: AbortSignal.timeout(2000) });
        await response.text();
        if (response.status !== 200) failures.push(`status ${response.status}`);
      } catch (error) {
        failures.push(String(error));
      }
      const took = performance.now() - started;
      if (phase.name === 'start') {
        // Warm-up: not counted.
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, 50 - took)));
        continue;
      }
      latencies.push(took);
      if (took >= 100) slow.push(`${phase.name}+${Math.round(started - phase.at)}ms: ${Math.round(took)} ms`);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 50 - took)));
    }
  })();
  return {
    latencies,
    failures,
    slow,
    phase(name: string) {
      phase.name = name;
      phase.at = performance.now();
    },
    async stop() {
      running = false;
      await done;
      return { max: Math.max(...latencies), count: latencies.length };
    },
  };
}

async function startWithConfig(config: object): Promise<AggregatorHandle> {
  const dir = await makeTempDir('envparity-many-envs-');
  const file = join(dir, 'aggregator.json');
  await writeFile(file, JSON.stringify(config));
  return startAggregator({ args: ['--config', file], logLevel: 'warn' });
}

function startPerHostFleet(aggregator: AggregatorHandle, agents: number): FleetProcess {
  const fleet = forkFleet(
    {
      url: aggregator.wsUrl,
      agents,
      enrollSecret: aggregator.enrollSecret,
      // Heartbeats only: the changed reports are asked for explicitly once the fleet has settled.
      changeRatePerMinute: 0,
      intervalSeconds: 30,
      // Hosts arrive over a few seconds, like a fleet (a simultaneous 1,000-handshake storm on 2
      // cores is an ingest question, not this one: the drift engine's passes are).
      rampSeconds: agents / 50,
      maxConnecting: 10,
      model: { environmentPerHost: PREFIX },
    },
    { statsIntervalMs: 250 },
  );
  fleets.push(fleet);
  return fleet;
}

const openPairEvents = async (aggregator: AggregatorHandle) =>
  (await aggregator.json<DriftList>('/api/v1/drift?status=open&kind=environment&limit=10000')).events;

/** Waits for every agent's initial report to be acknowledged (an ack follows the commit). */
async function settle(fleet: FleetProcess, agents: number, timeoutMs: number) {
  await waitFor(() => (fleet.latest()?.fullAcked ?? 0) >= agents, {
    timeoutMs,
    intervalMs: 250,
    message: `${agents} initial reports acknowledged`,
  });
}

describe('many environments', () => {
  it('1,000 one-host environments without promotion: /healthz answers throughout (max printed), no pair events', async () => {
    const AGENTS = 1000;
    const aggregator = await startWithConfig({});
    // A second of warm-up polls first, not counted: the first request of this process (connection
    // setup, cold code) timed the test itself at 101-111 ms, before any agent existed.
    const health = pollHealth(aggregator.url);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    health.phase('storm');
    const fleet = startPerHostFleet(aggregator, AGENTS);
    await settle(fleet, AGENTS, 60_000);
    health.phase('settling');
    // Let the drift engine run its passes over the storm (passes are >= 2 s apart, 8 s while busy).
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    expect(await openPairEvents(aggregator)).toEqual([]);

    // One more round of reports after settling: this is what froze the aggregator for ~39 s.
    health.phase('changed');
    fleet.change(AGENTS);
    await waitFor(() => (fleet.latest()?.deltaReportsSent ?? 0) >= AGENTS, {
      timeoutMs: 10_000,
      intervalMs: 100,
      message: 'changed reports sent',
    });
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    const drift = await aggregator.json<DriftList>('/api/v1/drift?limit=10000');
    const { max, count } = await health.stop();
    console.log(
      `many-environments: ${AGENTS} environments, /healthz max ${max.toFixed(1)} ms over ${count} polls, ` +
        `${drift.events.length} drift events`,
    );
    if (health.slow.length > 0) console.log(`slow /healthz answers: ${health.slow.join('; ')}`);
    expect(health.failures).toEqual([]);
    expect(count).toBeGreaterThan(200);
    expect(max).toBeLessThan(MAX_HEALTHZ_MS);
    expect(drift.events.filter((event) => event.kind === 'environment')).toEqual([]);
    // Bounded: one-host environments have no outliers either; nothing grows with N².
    expect(drift.truncated).toBe(false);
    expect(drift.events.length).toBeLessThanOrEqual(AGENTS);
  }, 100_000);

  it('150 environments with comparePairs: events only for the named pairs', async () => {
    const AGENTS = 150;
    const named: [string, string][] = [
      [`${PREFIX}0`, `${PREFIX}1`],
      [`${PREFIX}2`, `${PREFIX}3`],
      [`${PREFIX}10`, `${PREFIX}149`],
    ];
    const aggregator = await startWithConfig({ comparePairs: named });
    const fleet = startPerHostFleet(aggregator, AGENTS);
    await settle(fleet, AGENTS, 30_000);
    const allowed = new Set(named.map(([a, b]) => `${a}->${b}`));
    // The model's facts name each host's environment (DNS search, resolve, TLS): every pair differs.
    const events = await waitFor(
      async () => {
        const open = await openPairEvents(aggregator);
        const pairs = new Set(open.map((event) => `${event.environment}->${event.otherEnvironment}`));
        return pairs.size === allowed.size ? open : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500, message: 'pair events of the named pairs' },
    );
    const pairs = new Set(events.map((event) => `${event.environment}->${event.otherEnvironment}`));
    expect([...pairs].sort()).toEqual([...allowed].sort());
    // Compare on demand still works for any pair, named or not.
    const compare = await aggregator.json<{ differences: unknown[] }>(`/api/v1/compare?from=${PREFIX}5&to=${PREFIX}6`);
    expect(compare.differences.length).toBeGreaterThan(0);
  }, 60_000);
});
