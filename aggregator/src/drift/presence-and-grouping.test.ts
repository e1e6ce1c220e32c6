/**
 * Presence (grace, host.lost, retirement), ties, and one notification per cause (grouping window,
 * emergency marking, justified resolutions), on the drift engine with a fake clock and presence.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { addHost, changeHost, FakePresence, PROMOTION, seedFleet, serverFacts, T0 } from '../../testing/drift-fleet.js';
import { type AggregatorOptions, createAggregator } from '../aggregator.js';
import type { DriftEvent } from './events.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const GRACE_S = 60;
const RETIRE_S = 3600;

function setup(options: AggregatorOptions = {}) {
  const clock = { now: T0 + 1000 };
  const presence = new FakePresence();
  const aggregator = createAggregator({
    flushIntervalMs: 1,
    presence,
    now: () => clock.now,
    promotion: PROMOTION,
    presenceTiming: { graceSeconds: GRACE_S, retireAfterSeconds: RETIRE_S },
    ...options,
  });
  const events: DriftEvent[] = [];
  aggregator.events.on((event) => events.push(event));
  cleanups.push(() => aggregator.stop());
  const online = (...ids: string[]) => {
    for (const id of ids) presence.set(id, true);
  };
  /** An agent going away: the gateway's last contact with it is now (heartbeats kept it fresh). */
  const offline = (...ids: string[]) => {
    for (const id of ids) {
      aggregator.store.touchHost(id, clock.now);
      presence.set(id, false);
    }
  };
  const since = (mark: number) => events.slice(mark);
  return { aggregator, clock, presence, events, store: aggregator.store, online, offline, since };
}

const FLEET = ['dev-1', 'stg-1', 'stg-2', 'prod-1', 'prod-2', 'prod-3'];
const summary = (events: DriftEvent[]) =>
  events.map((event) => {
    const data = event.data as { kind?: string; path?: string; hostId?: string; resolution?: string };
    return [event.type, data.kind, data.hostId, data.path, data.resolution].filter(Boolean).join(' ');
  });

describe('presence', () => {
  it('an agent that goes offline keeps counting in the baseline for the grace: nothing opens or resolves', async () => {
    const { aggregator, clock, presence, events, online, offline, since } = setup();
    await seedFleet(aggregator.store);
    online(...FLEET);
    await aggregator.drift.settle();
    const mark = events.length;
    const before = aggregator.drift.state('production').baseline;
    // A rolling restart: one agent after the other goes away and comes back, within the grace.
    for (const id of ['prod-1', 'prod-2', 'prod-3', 'stg-1', 'stg-2']) {
      offline(id);
      clock.now += 5000;
      await aggregator.drift.settle();
      expect(aggregator.drift.presenceOf(id)).toBe('offline');
      expect(aggregator.drift.state('production').baseline.fingerprint).toBe(before.fingerprint);
      presence.set(id, true);
      clock.now += 5000;
      await aggregator.drift.settle();
    }
    // Two production agents down at once (prod-3, the outlier, left alone) changes nothing either.
    offline('prod-1', 'prod-2');
    clock.now += 30_000;
    await aggregator.drift.settle();
    expect(aggregator.drift.state('production').baseline).toMatchObject({
      hosts: 3,
      facts: { 'config.env.LOG_LEVEL': 'info' },
    });
    expect(since(mark)).toEqual([]);
  });

  it('past the grace a host leaves the baseline with one host.lost event; the outlier it leaves behind stays open', async () => {
    const { aggregator, clock, presence, events, online, offline, since, store } = setup();
    await seedFleet(store);
    online(...FLEET);
    await aggregator.drift.settle();
    const [outlier] = await store.listDriftEvents({ status: 'open', kind: 'outlier' });
    expect(outlier?.hosts).toEqual(['prod-3']);
    const mark = events.length;
    offline('prod-2');
    clock.now += (GRACE_S + 1) * 1000;
    await aggregator.drift.settle();
    expect(aggregator.drift.presenceOf('prod-2')).toBe('lost');
    // production is prod-1 (info) and prod-3 (warn) now: LOG_LEVEL is tied. prod-3 still differs
    // from prod-1: its event is not resolved as "no longer differs", and the tie opens nothing.
    expect(summary(since(mark))).toEqual(['host.lost lost prod-2']);
    const lost = since(mark)[0];
    expect(lost?.data).toMatchObject({ kind: 'lost', hostId: 'prod-2', hosts: ['prod-2'], status: 'open' });
    expect((lost?.data as { lastSeen?: string } | undefined)?.lastSeen).toMatch(/^\d{4}-/);
    expect((await store.listDriftEvents({ status: 'open', kind: 'outlier' })).map((e) => e.id)).toEqual([outlier?.id]);
    expect(aggregator.drift.state('production').baseline.ties.map((tie) => tie.path)).toEqual(['config.env.LOG_LEVEL']);

    // It comes back: the lost event resolves (one notification), the baseline has it again.
    const back = events.length;
    presence.set('prod-2', true);
    clock.now += 1000;
    await aggregator.drift.settle();
    expect(summary(since(back))).toEqual(['drift.resolved lost prod-2 returned']);
    expect(aggregator.drift.state('production').baseline.facts['config.env.LOG_LEVEL']).toBe('info');
  });

  it('a lost outlier host takes its own outlier event with it, inside host.lost (no "no longer differs")', async () => {
    const { aggregator, clock, events, online, offline, since, store } = setup();
    await seedFleet(store);
    online(...FLEET);
    await aggregator.drift.settle();
    const [outlier] = await store.listDriftEvents({ status: 'open', kind: 'outlier' });
    const mark = events.length;
    offline('prod-3');
    clock.now += (GRACE_S + 1) * 1000;
    await aggregator.drift.settle();
    expect(summary(since(mark))).toEqual(['host.lost lost prod-3']);
    expect(since(mark)[0]?.data).toMatchObject({ resolvedEvents: [outlier?.id] });
    const [resolved] = await store.listDriftEvents({ status: 'resolved', kind: 'outlier' });
    expect(resolved).toMatchObject({ id: outlier?.id, resolution: 'host-lost' });
  });

  it('a pass whose write fails keeps its presence transitions and held events for the retry', async () => {
    const { aggregator, clock, events, online, offline, since, store } = setup();
    await seedFleet(store);
    online(...FLEET);
    await aggregator.drift.settle();
    const mark = events.length;
    offline('prod-2');
    clock.now += (GRACE_S + 1) * 1000;
    const write = store.writeDriftEvents.bind(store);
    let calls = 0;
    store.writeDriftEvents = async (input) => {
      calls++;
      if (calls === 1) throw new Error('disk full');
      return write(input);
    };
    await aggregator.drift.settle();
    expect(calls).toBe(2);
    expect(summary(since(mark))).toEqual(['host.lost lost prod-2']);
    expect(await store.listDriftEvents({ kind: 'lost', status: 'open' })).toHaveLength(1);
  });

  it('retires a host past retireAfter: out of the lists and the environment, history kept, nothing announced', async () => {
    const { aggregator, clock, events, online, offline, since, store } = setup();
    await seedFleet(store);
    online(...FLEET);
    await aggregator.drift.settle();
    offline('prod-1');
    clock.now += (GRACE_S + 1) * 1000;
    await aggregator.drift.settle();
    const mark = events.length;
    clock.now += RETIRE_S * 1000;
    await aggregator.drift.settle();
    expect(aggregator.drift.presenceOf('prod-1')).toBe('retired');
    expect(store.getHost('prod-1')?.retiredAt).toBe(clock.now);
    expect(store.listHosts().map((host) => host.id)).not.toContain('prod-1');
    expect(aggregator.drift.state('production').hostCount).toBe(2);
    expect(await store.listChanges('prod-1', { limit: 10 })).toEqual([]);
    expect(store.getHostFacts('prod-1')).toMatchObject({ 'library.openssl': '3.0.11' });
    const [lost] = await store.listDriftEvents({ kind: 'lost' });
    expect(lost).toMatchObject({ hostId: 'prod-1', status: 'resolved', resolution: 'retired' });
    expect(since(mark)).toEqual([]);
  });

  it('does not declare hosts lost right after an aggregator restart (the grace starts when the engine does)', async () => {
    const { aggregator, clock, events } = setup();
    await seedFleet(aggregator.store);
    // Nobody online, last seen long ago (the aggregator was down): still counted.
    clock.now += 10 * GRACE_S * 1000;
    const late = createAggregator({
      store: aggregator.store,
      presence: new FakePresence(),
      now: () => clock.now,
      promotion: PROMOTION,
      presenceTiming: { graceSeconds: GRACE_S, retireAfterSeconds: RETIRE_S },
    });
    const seen: DriftEvent[] = [];
    late.events.on((event) => seen.push(event));
    await late.drift.settle();
    expect(seen.filter((event) => event.type === 'host.lost')).toEqual([]);
    expect(late.drift.presenceOf('prod-1')).toBe('offline');
    await late.drift.stop();
    expect(events.filter((event) => event.type === 'host.lost')).toEqual([]);
  });
});

describe('ties', () => {
  it('a path that becomes a tie opens no pair event and resolves none', async () => {
    const { aggregator, clock, events, online, since, store } = setup();
    await seedFleet(store);
    online(...FLEET);
    await aggregator.drift.settle();
    const openBefore = (await store.listDriftEvents({ status: 'open' })).map((event) => event.id).sort();
    const mark = events.length;
    clock.now += 1000;
    // staging: stg-1 info, stg-2 debug -> LOG_LEVEL tied in staging. dev-staging had a LOG_LEVEL
    // difference (dev debug); staging-production had none. Neither may change.
    await changeHost(store, 'stg-2', clock.now, { 'config.env.LOG_LEVEL': 'debug' });
    await aggregator.drift.settle();
    expect(aggregator.drift.state('staging').baseline.ties.map((tie) => tie.path)).toEqual(['config.env.LOG_LEVEL']);
    expect(since(mark)).toEqual([]);
    expect((await store.listDriftEvents({ status: 'open' })).map((event) => event.id).sort()).toEqual(openBefore);
  });
});

describe('secret policy', () => {
  it('a secret the policy wants different but staging and production share opens a pair event', async () => {
    const hash = `hmac-sha256:${'ab'.repeat(32)}`;
    const { aggregator, events, store } = setup({
      promotion: ['staging', 'production'],
      secretPolicy: [{ glob: 'config.env.DB_PASSWORD', expect: 'differ' }],
    });
    await addHost(store, 'stg-1', 'staging', serverFacts('stg-1', { 'config.env.DB_PASSWORD': hash }));
    await addHost(store, 'prod-1', 'production', serverFacts('prod-1', { 'config.env.DB_PASSWORD': hash }));
    await aggregator.drift.settle();
    expect(summary(events)).toEqual(['drift.opened environment config.env.DB_PASSWORD']);
    expect(events[0]?.data).toMatchObject({ expected: hash, actual: hash, hosts: ['prod-1'] });
  });
});

describe('one notification per cause', () => {
  async function hotfixFleet() {
    const ctx = setup({ promotion: ['staging', 'production'], driftGroupWindowMs: 10_000 });
    await addHost(ctx.store, 'stg-1', 'staging', serverFacts('stg-1'));
    for (const id of ['prod-1', 'prod-2', 'prod-3']) await addHost(ctx.store, id, 'production', serverFacts(id));
    ctx.online('stg-1', 'prod-1', 'prod-2', 'prod-3');
    await ctx.aggregator.drift.settle();
    expect(await ctx.store.listDriftEvents()).toEqual([]);
    return ctx;
  }

  it('a hotfix rolled over 3 production hosts is one emergency pair event listing them; the fix reaching staging resolves it once', async () => {
    const { aggregator, clock, events, since, store } = await hotfixFleet();
    const mark = events.length;
    // prod-1 first: an outlier for a moment (held, never announced), then prod-2 flips the
    // baseline (prod-3 the outlier for a moment), then prod-3: the pair differs.
    for (const id of ['prod-1', 'prod-2', 'prod-3']) {
      clock.now += 2000;
      await changeHost(store, id, clock.now, { 'library.openssl': '3.0.99' });
      await aggregator.drift.settle({ endWindow: false });
    }
    expect(since(mark)).toEqual([]);
    clock.now += 10_000;
    await aggregator.drift.settle({ endWindow: false });
    const opened = since(mark);
    expect(summary(opened)).toEqual(['drift.opened environment library.openssl']);
    expect(opened[0]?.data).toMatchObject({
      environment: 'staging',
      otherEnvironment: 'production',
      expected: '3.0.13',
      actual: '3.0.99',
      hosts: ['prod-1', 'prod-2', 'prod-3'],
      hostCount: 3,
      emergency: true,
      upstream: 'staging',
    });
    expect(await store.listDriftEvents()).toHaveLength(1);
    const changes = await store.listChanges('prod-2', { limit: 10 });
    expect(changes.filter((change) => change.emergency).map((change) => change.path)).toEqual(['library.openssl']);

    const fixed = events.length;
    clock.now += 60_000;
    await changeHost(store, 'stg-1', clock.now, { 'library.openssl': '3.0.99' });
    await aggregator.drift.settle({ endWindow: false });
    expect(summary(since(fixed))).toEqual(['drift.resolved environment library.openssl fixed']);
  });

  it('one host hotfixed is one outlier event marked as an emergency; others joining later are listed on it', async () => {
    const { aggregator, clock, events, since, store, online } = await hotfixFleet();
    // Four more production hosts: three hosts on the new value stay a minority.
    for (const id of ['prod-4', 'prod-5', 'prod-6', 'prod-7']) await addHost(store, id, 'production', serverFacts(id));
    online('prod-4', 'prod-5', 'prod-6', 'prod-7');
    const mark = events.length;
    clock.now += 1000;
    await changeHost(store, 'prod-1', clock.now, { 'config.env.LOG_LEVEL': 'debug' });
    await aggregator.drift.settle({ endWindow: false });
    clock.now += 3000;
    await changeHost(store, 'prod-2', clock.now, { 'config.env.LOG_LEVEL': 'debug' });
    await aggregator.drift.settle({ endWindow: false });
    expect(since(mark)).toEqual([]);
    clock.now += 10_000;
    await aggregator.drift.settle({ endWindow: false });
    expect(summary(since(mark))).toEqual(['drift.opened outlier prod-1 config.env.LOG_LEVEL']);
    expect(since(mark)[0]?.data).toMatchObject({
      hosts: ['prod-1', 'prod-2'],
      emergency: true,
      upstream: 'staging',
      expected: 'info',
      actual: 'debug',
    });
    // A third host with the same change joins the open event silently.
    const later = events.length;
    clock.now += 60_000;
    await changeHost(store, 'prod-3', clock.now, { 'config.env.LOG_LEVEL': 'debug' });
    await aggregator.drift.settle({ endWindow: false });
    expect(since(later)).toEqual([]);
    const [group] = await store.listDriftEvents({ status: 'open', kind: 'outlier' });
    expect(group?.hosts).toEqual(['prod-1', 'prod-2', 'prod-3']);
    // Listed for any of its hosts, not only the first.
    expect((await store.listDriftEvents({ hostId: 'prod-3', status: 'open' })).map((e) => e.id)).toEqual([group?.id]);
    // The hosts go back one by one: one resolution, when the last one is back.
    for (const id of ['prod-1', 'prod-2', 'prod-3']) {
      clock.now += 1000;
      await changeHost(store, id, clock.now, { 'config.env.LOG_LEVEL': 'info' });
      await aggregator.drift.settle({ endWindow: false });
    }
    expect(summary(since(later))).toEqual(['drift.resolved outlier prod-1 config.env.LOG_LEVEL fixed']);
  });

  it('creating an exception resolves the drift it covers as justified by that exception, not as gone', async () => {
    const { aggregator, events, since, store } = setup();
    await seedFleet(store);
    await aggregator.drift.settle();
    const mark = events.length;
    const exception = await store.createException({
      path: 'config.env.LOG_LEVEL',
      environments: ['production'],
      reason: 'prod-3 traces a customer issue',
      expiresAt: null,
      createdAt: T0,
    });
    const pair = await store.createException({
      path: 'library.openssl',
      environments: ['staging', 'production'],
      reason: 'openssl upgrade in flight',
      expiresAt: null,
      createdAt: T0,
    });
    aggregator.drift.exceptionsChanged(['production', 'staging']);
    await aggregator.drift.settle();
    const resolved = since(mark);
    expect(resolved.map((event) => event.type)).toEqual(['drift.resolved', 'drift.resolved']);
    const byKind = Object.fromEntries(resolved.map((event) => [(event.data as { kind: string }).kind, event.data]));
    expect(byKind.outlier).toMatchObject({
      hostId: 'prod-3',
      resolution: 'justified',
      exception: { id: exception.id, reason: 'prod-3 traces a customer issue' },
    });
    expect(byKind.environment).toMatchObject({
      path: 'library.openssl',
      resolution: 'justified',
      exception: { id: pair.id, reason: 'openssl upgrade in flight' },
    });
  });
});
