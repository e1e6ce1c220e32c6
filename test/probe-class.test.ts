/**
 * Probes declare `class: scale` for their numbers (issue 16, requirement 2): a real aggregator and
 * two real agents, staging and production, each with a probe printing `{"orders": N}` with a
 * different N. The probe with `class: scale` compares as `scale`, before and after an aggregator
 * restart (the declaration is stored and loaded before the fleet state); the same output from a
 * probe without a class is drift.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AgentHandle,
  type AggregatorHandle,
  cleanupProcesses,
  startAgent,
  startAggregator,
  waitFor,
} from './helpers/index.js';

interface Difference {
  path: string;
  from?: unknown;
  to?: unknown;
  status: 'drift' | 'justified' | 'scale';
}
interface Comparison {
  differences: Difference[];
}

function probes(orders: number): Record<string, unknown>[] {
  const output = JSON.stringify({ orders });
  return [
    { name: 'sized', command: `echo '${output}'`, timeout: 5, class: 'scale' },
    { name: 'unclassed', command: `echo '${output}'`, timeout: 5 },
  ];
}

describe('probe class declared by the agent', () => {
  let aggregator: AggregatorHandle;
  const agents: AgentHandle[] = [];

  beforeAll(async () => {
    aggregator = await startAggregator();
    for (const [hostId, environment, orders] of [
      ['stg-1', 'staging', 120],
      ['prod-1', 'production', 98_000],
    ] as const) {
      agents.push(
        await startAgent({
          aggregatorUrl: aggregator.url,
          hostId,
          environment,
          config: { watch: { probes: probes(orders) } },
        }),
      );
    }
  });

  afterAll(async () => {
    await cleanupProcesses();
  });

  const differencesOf = async (): Promise<Map<string, Difference>> => {
    const comparison = await aggregator.json<Comparison>('/api/v1/compare?from=staging&to=production');
    return new Map(comparison.differences.filter((d) => d.path.startsWith('probe.')).map((d) => [d.path, d] as const));
  };

  const expectProbeStatuses = (differences: Map<string, Difference>) => {
    expect(differences.get('probe.sized.orders')).toMatchObject({ from: 120, to: 98_000, status: 'scale' });
    expect(differences.get('probe.unclassed.orders')).toMatchObject({ from: 120, to: 98_000, status: 'drift' });
  };

  it('compares the declared probe as scale and the other as drift, and still does after a restart', async () => {
    const before = await waitFor(
      async () => {
        const differences = await differencesOf();
        // Both sides reported both probes.
        const reported = ['probe.sized.orders', 'probe.unclassed.orders'].every((path) => {
          const difference = differences.get(path);
          return difference?.from !== undefined && difference.to !== undefined;
        });
        return reported ? differences : undefined;
      },
      { timeoutMs: 20_000, message: 'both probes of both environments in the comparison' },
    );
    expectProbeStatuses(before);

    // The verify side classifies with what the baseline publishes: the declaration is in it.
    const baseline = await aggregator.json<{ classes: { glob: string; class: string }[] }>(
      '/api/v1/environments/production/baseline',
    );
    expect(baseline.classes).toContainEqual({ glob: 'probe.sized.**', class: 'scale' });
    expect(baseline.classes.some((rule) => rule.glob.startsWith('probe.unclassed'))).toBe(false);

    await aggregator.stop();
    aggregator = await aggregator.restart();
    // Answered from the stored facts, whether or not the agents are back yet.
    expectProbeStatuses(await differencesOf());
    for (const agent of agents) {
      await waitFor(
        async () => (await aggregator.json<{ online: boolean }>(`/api/v1/hosts/${agent.hostId}`)).online || undefined,
        { timeoutMs: 20_000, message: `${agent.hostId} back online` },
      );
    }
    // Their hellos declare the same class again: a no-op, never a refusal.
    expectProbeStatuses(await differencesOf());
    expect(aggregator.logs.some((line) => line.includes('declared class refused'))).toBe(false);
  });
});
