/**
 * One notification per cause (issue 9 req 4), counted at a real webhook receiver: a hotfix edited
 * by hand on three production hosts (never seen in staging: an emergency change) is exactly one
 * webhook call — one `drift.opened` naming the three hosts, marked as an emergency, with a text
 * saying what to do — and the same fix reaching staging is exactly one `drift.resolved`.
 * Before: 7 calls for the hotfix (3 emergency drift.opened, 3 emergency.change, 1 pair) and 4 for
 * the fix.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fleet, startFleet, startReceiver } from './drift-fleet.js';
import { cleanupProcesses, mountNamespaceSupport, sleep, waitFor } from './helpers/index.js';

const support = mountNamespaceSupport();
/** The grouping window (10 s) plus a pass gap. */
const SETTLE_MS = 13_000;

describe.skipIf(!support.ok)('webhooks: one call per cause (1 staging + 3 production agents)', () => {
  let fleet: Fleet;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const settings = { feature_checkout: 'v1', pool: 20 };

  beforeAll(async () => {
    receiver = await startReceiver();
    fleet = await startFleet(
      [
        { id: 'stg-1', environment: 'staging', settings },
        { id: 'prod-1', environment: 'production', settings },
        { id: 'prod-2', environment: 'production', settings },
        { id: 'prod-3', environment: 'production', settings },
      ],
      receiver.url,
    );
    await sleep(SETTLE_MS);
  }, 120_000);

  afterAll(async () => {
    await cleanupProcesses();
    await receiver?.close();
  });

  it('starts in parity: no drift event, no webhook', async () => {
    expect(await fleet.drift()).toEqual([]);
    expect(receiver.deliveries).toEqual([]);
  });

  it('a hotfix on 3 production hosts is one webhook call; the fix reaching staging is one more', async () => {
    const path = fleet.setting('feature_checkout');
    // The hotfix, host after host (as someone would ssh into each).
    for (const id of ['prod-1', 'prod-2', 'prod-3']) {
      await fleet.edit(id, { ...settings, feature_checkout: 'v2-hotfix' });
      await sleep(700);
    }
    await waitFor(() => receiver.deliveries.length >= 1, { timeoutMs: 30_000, message: 'the hotfix notification' });
    await sleep(SETTLE_MS);
    expect(receiver.deliveries.map((d) => d.type)).toEqual(['drift.opened']);
    const [opened] = receiver.deliveries;
    expect(opened?.body.data).toMatchObject({
      kind: 'environment',
      environment: 'staging',
      otherEnvironment: 'production',
      path,
      expected: 'v1',
      actual: 'v2-hotfix',
      emergency: true,
      upstream: 'staging',
      hosts: ['prod-1', 'prod-2', 'prod-3'],
      hostCount: 3,
      status: 'open',
    });
    expect(opened?.headers['x-envparity-event']).toBe('drift.opened');
    expect(opened?.body.text).toContain('3 hosts (prod-1, prod-2, prod-3)');
    expect(opened?.body.text).toContain('never seen in staging');
    expect(opened?.body.text).toContain('To do: promote it through staging or roll it back');
    // The API holds the same single event; each host's change is flagged in its history.
    const events = await fleet.drift();
    expect(events.map((e) => [e.kind, e.status, e.id])).toEqual([['environment', 'open', opened?.body.data.id]]);
    for (const id of ['prod-1', 'prod-2', 'prod-3']) {
      const { changes } = await fleet.aggregator.json<{ changes: { path: string; emergency?: boolean }[] }>(
        `/api/v1/hosts/${id}/changes`,
      );
      expect(changes.filter((c) => c.path === path).map((c) => c.emergency)).toEqual([true]);
    }

    // The fix is promoted to staging.
    await fleet.edit('stg-1', { ...settings, feature_checkout: 'v2-hotfix' });
    await waitFor(() => receiver.deliveries.length >= 2, { timeoutMs: 30_000, message: 'the resolution' });
    await sleep(SETTLE_MS);
    expect(receiver.deliveries.map((d) => d.type)).toEqual(['drift.opened', 'drift.resolved']);
    expect(receiver.deliveries[1]?.body.data).toMatchObject({
      id: opened?.body.data.id,
      status: 'resolved',
      resolution: 'fixed',
    });
    expect(await fleet.drift('?status=open')).toEqual([]);
  }, 120_000);
});
