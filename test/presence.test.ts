/**
 * Presence that does not move the baseline (issue 9 req 2): a rolling agent restart — real agent
 * processes stopped (SIGTERM, the orderly shutdown) and started again one by one against a real
 * aggregator — opens no drift event, resolves none, and fires no webhook. The fleet has a real
 * outlier (prod-3) and a real staging/production difference, whose events must stay open as they
 * are throughout (before, stopping prod-2 resolved prod-3's outlier and a half-present production
 * briefly reported the outlier's value as production's).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Delivery, type DriftRecord, type Fleet, startFleet, startReceiver } from './drift-fleet.js';
import { cleanupProcesses, mountNamespaceSupport, sleep, waitFor } from './helpers/index.js';

const support = mountNamespaceSupport();
/** The aggregator's grouping window (10 s) plus a pass gap: what opens, opens within this. */
const SETTLE_MS = 13_000;

describe.skipIf(!support.ok)('rolling agent restart (1 staging + 3 production agents)', () => {
  let fleet: Fleet;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let baseline: DriftRecord[];

  beforeAll(async () => {
    receiver = await startReceiver();
    fleet = await startFleet(
      [
        { id: 'stg-1', environment: 'staging', settings: { log_level: 'debug', pool: 5 } },
        { id: 'prod-1', environment: 'production', settings: { log_level: 'info', pool: 20 } },
        { id: 'prod-2', environment: 'production', settings: { log_level: 'info', pool: 20 } },
        { id: 'prod-3', environment: 'production', settings: { log_level: 'warn', pool: 20 } },
      ],
      receiver.url,
    );
    // The planned findings: prod-3's outlier, staging vs production on log_level and pool.
    await waitFor(async () => (await fleet.drift('?status=open')).length === 3 && receiver.deliveries.length === 3, {
      timeoutMs: 40_000,
      message: 'the three planned drift events, delivered',
    });
    await sleep(SETTLE_MS);
    baseline = await fleet.drift();
  }, 150_000);

  afterAll(async () => {
    await cleanupProcesses();
    await receiver?.close();
  });

  it('starts from exactly the planned findings, one webhook each', async () => {
    const summary = baseline.map((e) => `${e.kind} ${e.status} ${e.hostId ?? e.otherEnvironment} ${e.path}`).sort();
    expect(summary).toEqual(
      [
        `environment open production ${fleet.setting('log_level')}`,
        `environment open production ${fleet.setting('pool')}`,
        `outlier open prod-3 ${fleet.setting('log_level')}`,
      ].sort(),
    );
    expect(receiver.deliveries.map((d: Delivery) => d.type)).toEqual(['drift.opened', 'drift.opened', 'drift.opened']);
    const pair = baseline.find((e) => e.kind === 'environment' && e.path === fleet.setting('log_level'));
    expect(pair).toMatchObject({ hosts: ['prod-1', 'prod-2'] });
  });

  it('stops and restarts every agent one by one: no drift event opens or resolves, no webhook fires', async () => {
    const webhooksBefore = receiver.deliveries.length;
    for (const id of ['prod-1', 'prod-2', 'prod-3', 'stg-1']) {
      const agent = fleet.agents.get(id);
      if (!agent) throw new Error(`no agent ${id}`);
      const exit = await agent.stop();
      expect(exit.code, `${id} exit`).toBe(0);
      const offline = await waitFor(async () => (await fleet.hosts()).find((host) => host.id === id && !host.online), {
        timeoutMs: 10_000,
        message: `${id} offline`,
      });
      // Offline within the grace: still counted in the baseline with its last facts.
      expect(offline.presence).toBe('offline');
      // Let the engine run passes while the agent is away (presence changes are evaluated).
      await sleep(3000);
      expect(await fleet.drift()).toEqual(baseline);
      fleet.agents.set(id, await agent.restart());
      await waitFor(async () => (await fleet.hosts()).find((host) => host.id === id)?.online === true, {
        timeoutMs: 20_000,
        message: `${id} online again`,
      });
    }
    // Whatever a restart could have caused would be announced within the grouping window.
    await sleep(SETTLE_MS);
    expect(await fleet.drift()).toEqual(baseline);
    expect(receiver.deliveries.slice(webhooksBefore)).toEqual([]);
    const hosts = await fleet.hosts();
    expect(hosts.map((host) => [host.id, host.online, host.presence])).toEqual([
      ['prod-1', true, 'online'],
      ['prod-2', true, 'online'],
      ['prod-3', true, 'online'],
      ['stg-1', true, 'online'],
    ]);
  }, 180_000);
});
