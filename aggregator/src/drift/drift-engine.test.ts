import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { addHost, changeHost, FakePresence, PROMOTION, seedFleet, serverFacts, T0 } from '../../testing/drift-fleet.js';
import { type Aggregator, type AggregatorOptions, createAggregator } from '../aggregator.js';
import type { DriftEvent } from './events.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function setup(options: AggregatorOptions = {}) {
  const clock = { now: T0 + 1000 };
  const presence = new FakePresence();
  const aggregator = createAggregator({ flushIntervalMs: 1, presence, now: () => clock.now, ...options });
  const events: DriftEvent[] = [];
  aggregator.events.on((event) => events.push(event));
  cleanups.push(() => aggregator.stop());
  return { aggregator, clock, presence, events, store: aggregator.store };
}

async function openEvents(aggregator: Aggregator) {
  return (await aggregator.store.listDriftEvents({ status: 'open' })).map(
    ({ kind, environment, otherEnvironment, hostId, path, expected, actual }) => ({
      kind,
      environment,
      ...(otherEnvironment ? { otherEnvironment } : {}),
      ...(hostId ? { hostId } : {}),
      path,
      ...(expected !== undefined ? { expected } : {}),
      ...(actual !== undefined ? { actual } : {}),
    }),
  );
}

const byPath = (a: object, b: object) => JSON.stringify(a).localeCompare(JSON.stringify(b));

describe('drift events', () => {
  it('opens outlier and adjacent-environment events for behavior drift only, stamped with the pass time', async () => {
    const { aggregator, events, clock } = setup({ promotion: PROMOTION });
    await seedFleet(aggregator.store);
    await aggregator.drift.settle();
    expect((await openEvents(aggregator)).sort(byPath)).toEqual(
      [
        {
          kind: 'environment',
          environment: 'dev',
          otherEnvironment: 'staging',
          path: 'config.env.LOG_LEVEL',
          expected: 'debug',
          actual: 'info',
        },
        {
          kind: 'environment',
          environment: 'dev',
          otherEnvironment: 'staging',
          path: 'library.openssl',
          expected: '3.0.14',
          actual: '3.0.13',
        },
        {
          kind: 'environment',
          environment: 'staging',
          otherEnvironment: 'production',
          path: 'library.openssl',
          expected: '3.0.13',
          actual: '3.0.11',
        },
        {
          kind: 'outlier',
          environment: 'production',
          hostId: 'prod-3',
          path: 'config.env.LOG_LEVEL',
          expected: 'info',
          actual: 'warn',
        },
      ].sort(byPath),
    );
    // No scale (cores), identity (hostname) or volatile (uptime) event; dev and production are not neighbours.
    expect(events.every((event) => event.type === 'drift.opened')).toBe(true);
    expect(events).toHaveLength(4);
    expect(events[0]?.at).toBe(new Date(clock.now).toISOString());
    const opened = events[0]?.type === 'drift.opened' ? events[0].data : undefined;
    expect(opened).toMatchObject({ status: 'open', openedAt: new Date(clock.now).toISOString() });
    expect(opened?.id).toMatch(/^\d+$/);
  });

  it('keeps one outlier event per host, with the count and first paths of its drift', async () => {
    const { aggregator, events, clock, store } = setup({ promotion: PROMOTION });
    await seedFleet(store);
    await aggregator.drift.settle();
    const [outlier] = await store.listDriftEvents({ status: 'open', kind: 'outlier' });
    expect(outlier && aggregator.drift.eventRecord(outlier)).toMatchObject({
      count: 1,
      paths: ['config.env.LOG_LEVEL'],
    });
    clock.now += 60_000;
    await changeHost(store, 'prod-3', clock.now, { 'library.openssl': '9.9.9' });
    await aggregator.drift.settle();
    const open = await store.listDriftEvents({ status: 'open', kind: 'outlier' });
    expect(open.map((event) => event.id)).toEqual([outlier?.id]);
    expect(open[0] && aggregator.drift.eventRecord(open[0])).toMatchObject({
      hostId: 'prod-3',
      path: 'config.env.LOG_LEVEL',
      count: 2,
      paths: ['config.env.LOG_LEVEL', 'library.openssl'],
    });
    const outlierEvents = events.filter(
      (event) => event.type.startsWith('drift.') && (event.data as { kind: string }).kind === 'outlier',
    );
    expect(outlierEvents).toHaveLength(1);
    expect(outlierEvents[0]?.data).toMatchObject({ count: 1, paths: ['config.env.LOG_LEVEL'] });
  });

  // No longer every pair: all N² pairs froze the aggregator with many (preview) environments.
  it('compares no environment pair without a promotion order or comparePairs (outliers still open)', async () => {
    const { aggregator } = setup();
    await seedFleet(aggregator.store);
    await aggregator.drift.settle();
    const open = await openEvents(aggregator);
    expect(open.filter((event) => event.kind === 'environment')).toEqual([]);
    expect(open.some((event) => event.kind === 'outlier')).toBe(true);
  });

  it('compares only the pairs named in comparePairs besides the promotion neighbours', async () => {
    const { aggregator } = setup({ comparePairs: [['dev', 'production']] });
    await seedFleet(aggregator.store);
    await aggregator.drift.settle();
    const pairs = new Set(
      (await openEvents(aggregator))
        .filter((event) => event.kind === 'environment')
        .map((event) => `${event.environment}->${event.otherEnvironment}`),
    );
    expect([...pairs]).toEqual(['dev->production']);
  });

  it('resolves an event when its difference goes, with resolvedAt, and keeps one event while values change', async () => {
    const { aggregator, events, clock, store } = setup({ promotion: PROMOTION });
    await seedFleet(store);
    await aggregator.drift.settle();
    const [outlier] = await store.listDriftEvents({ status: 'open', kind: 'outlier' });
    clock.now += 60_000;
    await changeHost(store, 'prod-3', clock.now, { 'config.env.LOG_LEVEL': 'error' });
    await aggregator.drift.settle();
    const [still] = await store.listDriftEvents({ status: 'open', kind: 'outlier' });
    expect(still).toMatchObject({ id: outlier?.id, actual: 'error', openedAt: T0 + 1000 });
    expect(events.filter((event) => event.type === 'drift.resolved')).toEqual([]);

    clock.now += 60_000;
    await changeHost(store, 'prod-3', clock.now, { 'config.env.LOG_LEVEL': 'info' });
    await aggregator.drift.settle();
    expect(await store.listDriftEvents({ status: 'open', kind: 'outlier' })).toEqual([]);
    // 'error' was new to staging too: that change was an emergency, resolved now as well.
    const resolved = events.filter(
      (event) => event.type === 'drift.resolved' && (event.data as { kind: string }).kind === 'outlier',
    );
    expect(resolved).toHaveLength(1);
    expect(resolved[0]).toMatchObject({
      type: 'drift.resolved',
      at: new Date(clock.now).toISOString(),
      data: {
        id: outlier?.id,
        kind: 'outlier',
        hostId: 'prod-3',
        status: 'resolved',
        openedAt: new Date(T0 + 1000).toISOString(),
        resolvedAt: new Date(clock.now).toISOString(),
      },
    });
    const [stored] = await store.listDriftEvents({ status: 'resolved', kind: 'outlier' });
    expect(stored).toMatchObject({ id: outlier?.id, resolvedAt: clock.now });
  });

  it('re-evaluates on its own after the debounce', async () => {
    // No grouping window: automatic passes open events at once.
    const { store } = setup({ promotion: PROMOTION, driftDebounceMs: 20, driftGroupWindowMs: 0 });
    await seedFleet(store);
    await expect.poll(async () => (await store.listDriftEvents({ status: 'open' })).length, { timeout: 2000 }).toBe(4);
  });

  it('computes baselines from counted hosts only and reports ties instead of opening outliers', async () => {
    const { aggregator, presence, store, clock } = setup({
      promotion: PROMOTION,
      presenceTiming: { graceSeconds: 60, retireAfterSeconds: 3600 },
    });
    await addHost(store, 'stg-1', 'staging', serverFacts('stg-1'));
    await addHost(store, 'stg-2', 'staging', serverFacts('stg-2', { 'config.env.LOG_LEVEL': 'debug' }));
    await addHost(store, 'stg-3', 'staging', serverFacts('stg-3', { 'config.env.LOG_LEVEL': 'debug' }));
    await aggregator.drift.settle();
    // Nobody live: the stale baseline of all three, 'debug' dominates and stg-1 is the outlier.
    expect(aggregator.drift.state('staging').baseline).toMatchObject({ stale: true, hosts: 3 });
    expect((await openEvents(aggregator)).map((event) => event.hostId)).toEqual(['stg-1']);

    presence.set('stg-1', true);
    presence.set('stg-2', true);
    // stg-3 stays offline past the grace: it leaves the baseline (before, any offline host left at once).
    clock.now += 61_000;
    await aggregator.drift.settle();
    const { baseline } = aggregator.drift.state('staging');
    expect(baseline).toMatchObject({ stale: false, hosts: 2 });
    expect(baseline.ties).toEqual([
      {
        path: 'config.env.LOG_LEVEL',
        candidates: [
          { value: 'debug', hosts: 1 },
          { value: 'info', hosts: 1 },
        ],
      },
    ]);
    expect(baseline.facts).not.toHaveProperty(['config.env.LOG_LEVEL']);
    // stg-1's outlier is held (its path is tied: undecided, not fixed); stg-3 is lost.
    expect((await openEvents(aggregator)).map((event) => `${event.kind}/${event.hostId}`).sort()).toEqual([
      'lost/stg-3',
      'outlier/stg-1',
    ]);
  });

  it('moves a host between environments when its hello declares another one', async () => {
    const { aggregator, store } = setup({ promotion: PROMOTION });
    await seedFleet(store);
    await aggregator.drift.settle();
    await store.updateHostInfo('prod-3', { environment: 'staging', labels: {}, agentVersion: '0.1.0' });
    await aggregator.drift.settle();
    const outliers = (await openEvents(aggregator)).filter((event) => event.kind === 'outlier');
    // prod-3 (openssl 3.0.11, LOG_LEVEL warn) is now a staging outlier; production has none left.
    // One event per host: its first path off the baseline.
    expect(outliers.map((event) => `${event.environment}/${event.hostId}/${event.path}`).sort()).toEqual([
      'staging/prod-3/config.env.LOG_LEVEL',
    ]);
    const [record] = (await aggregator.store.listDriftEvents({ status: 'open', kind: 'outlier' })).map((event) =>
      aggregator.drift.eventRecord(event),
    );
    expect(record).toMatchObject({ count: 2, paths: ['config.env.LOG_LEVEL', 'library.openssl'] });
    expect(aggregator.drift.state('staging').hostCount).toBe(3);
    expect(aggregator.drift.state('production').hostCount).toBe(2);
  });
});

describe('failures', () => {
  it('retries the work of a pass whose write failed, publishing nothing for it', async () => {
    const { aggregator, store, events } = setup({ promotion: PROMOTION });
    await seedFleet(store);
    const write = store.writeDriftEvents.bind(store);
    let calls = 0;
    store.writeDriftEvents = async (input) => {
      calls++;
      if (calls === 1) throw new Error('disk full');
      return write(input);
    };
    await aggregator.drift.settle();
    expect(calls).toBe(2);
    expect(events.filter((event) => event.type === 'drift.opened')).toHaveLength(4);
    expect(await store.listDriftEvents({ status: 'open' })).toHaveLength(4);
  });
});

describe('exceptions', () => {
  it('justified differences open no events; deleting the exception opens them', async () => {
    const { aggregator, store } = setup({ promotion: PROMOTION });
    await seedFleet(store);
    const exception = await store.createException({
      path: 'library.*',
      environments: ['staging', 'production'],
      reason: 'production upgrades openssl after the freeze',
      expiresAt: null,
      createdAt: T0,
    });
    await aggregator.drift.settle();
    const pairs = (await openEvents(aggregator)).filter((event) => event.environment === 'staging');
    expect(pairs).toEqual([]);
    await store.deleteException(exception.id);
    aggregator.drift.exceptionsChanged(exception.environments);
    await aggregator.drift.settle();
    expect((await openEvents(aggregator)).filter((event) => event.environment === 'staging')).toHaveLength(1);
  });

  it('an exception covering one environment justifies its outliers', async () => {
    const { aggregator, store } = setup({ promotion: PROMOTION });
    await seedFleet(store);
    await store.createException({
      path: 'config.env.LOG_LEVEL',
      environments: ['production'],
      reason: 'prod-3 traces a customer issue',
      expiresAt: null,
      createdAt: T0,
    });
    await aggregator.drift.settle();
    expect((await openEvents(aggregator)).filter((event) => event.kind === 'outlier')).toEqual([]);
    expect(aggregator.drift.outliers('production')).toMatchObject([
      { hostId: 'prod-3', status: 'justified', exception: { reason: 'prod-3 traces a customer issue' } },
    ]);
  });

  it('publishes exception.expired once and opens the now-unjustified drift (periodic check)', async () => {
    const { aggregator, store, clock, events } = setup({
      promotion: PROMOTION,
      exceptionCheckMs: 10,
      driftGroupWindowMs: 0,
    });
    await seedFleet(store);
    const exception = await store.createException({
      path: 'library.openssl',
      environments: ['staging', 'production'],
      reason: 'rolling upgrade',
      owner: 'platform',
      expiresAt: clock.now + 60_000,
      createdAt: clock.now,
    });
    await aggregator.drift.settle();
    expect((await openEvents(aggregator)).filter((e) => e.environment === 'staging')).toEqual([]);

    clock.now += 60_000;
    await expect
      .poll(async () => (await openEvents(aggregator)).filter((e) => e.environment === 'staging').length, {
        timeout: 2000,
      })
      .toBe(1);
    const expired = events.filter((event) => event.type === 'exception.expired');
    expect(expired).toEqual([
      {
        type: 'exception.expired',
        at: new Date(clock.now).toISOString(),
        data: {
          id: exception.id,
          path: 'library.openssl',
          environments: ['staging', 'production'],
          reason: 'rolling upgrade',
          owner: 'platform',
          expiresAt: new Date(clock.now).toISOString(),
          createdAt: new Date(clock.now - 60_000).toISOString(),
        },
      },
    ]);
    const openedAfter = events.filter((event) => event.type === 'drift.opened' && event.at === expired[0]?.at);
    expect(openedAfter.map((event) => (event.data as { path: string }).path)).toEqual(['library.openssl']);
    expect(store.listExceptions()[0]?.expiredAt).toBe(clock.now);
    await aggregator.drift.settle();
    expect(events.filter((event) => event.type === 'exception.expired')).toHaveLength(1);
  });
});

describe('emergency changes', () => {
  it('flags a production change staging never had, on the change and as an event', async () => {
    const { aggregator, store, clock, events } = setup({ promotion: PROMOTION });
    await seedFleet(store);
    await aggregator.drift.settle();
    clock.now += 60_000;
    await changeHost(store, 'prod-1', clock.now, { 'library.openssl': '3.0.15', 'config.env.NEW_FLAG': 'on' });
    await aggregator.drift.settle();

    const changes = await store.listChanges('prod-1', { since: clock.now, limit: 10 });
    expect(changes).toEqual([
      expect.objectContaining({ path: 'config.env.NEW_FLAG', to: 'on', emergency: true }),
      expect.objectContaining({ path: 'library.openssl', from: '3.0.11', to: '3.0.15', emergency: true }),
    ]);
    // One edit, one event: prod-1's outlier group (its first path off the baseline is NEW_FLAG), marked
    // as an emergency; no event of kind emergency and no separate emergency.change.
    expect(await store.listDriftEvents({ kind: 'emergency' })).toEqual([]);
    const outliers = await store.listDriftEvents({ kind: 'outlier', status: 'open' });
    const prod1 = outliers.find((event) => event.hosts?.includes('prod-1'));
    expect(prod1).toMatchObject({
      environment: 'production',
      path: 'config.env.NEW_FLAG',
      actual: 'on',
      hosts: ['prod-1'],
      emergency: true,
      upstream: 'staging',
    });
    expect(events.filter((event) => event.type === 'emergency.change')).toEqual([]);
    const opened = events.filter(
      (event) => event.type === 'drift.opened' && event.at === new Date(clock.now).toISOString(),
    );
    expect(opened).toHaveLength(1);
    expect(opened[0]?.data).toMatchObject({
      id: prod1?.id,
      emergency: true,
      upstream: 'staging',
      hosts: ['prod-1'],
      count: 2,
      paths: ['config.env.NEW_FLAG', 'library.openssl'],
    });
  });

  it('does not flag values the upstream holds now or ever held, nor first reports, nor justified paths', async () => {
    const { aggregator, store, clock } = setup({ promotion: PROMOTION });
    await seedFleet(store);
    // staging once ran 3.0.12, then moved on (dev never had those: emergencies in staging, not our subject).
    clock.now += 1000;
    await changeHost(store, 'stg-1', clock.now, { 'library.openssl': '3.0.12' });
    clock.now += 1000;
    await changeHost(store, 'stg-1', clock.now, { 'library.openssl': '3.0.13' });
    await store.createException({
      path: 'config.env.LOG_LEVEL',
      environments: ['staging', 'production'],
      reason: 'log levels are per environment',
      expiresAt: null,
      createdAt: clock.now,
    });
    await aggregator.drift.settle();
    clock.now += 1000;
    await changeHost(store, 'prod-1', clock.now, { 'library.openssl': '3.0.13' }); // staging has it now
    await changeHost(store, 'prod-2', clock.now, { 'library.openssl': '3.0.12' }); // staging had it
    await changeHost(store, 'prod-3', clock.now, { 'config.env.LOG_LEVEL': 'trace' }); // justified
    await addHost(store, 'prod-4', 'production', serverFacts('prod-4', { 'library.openssl': '9.9.9' })); // first report
    // dev is upstream of nothing but staging: a dev change is never an emergency.
    await changeHost(store, 'dev-1', clock.now, { 'library.openssl': '4.0.0' });
    await aggregator.drift.settle();
    expect(await store.listDriftEvents({ kind: 'emergency', environment: 'production' })).toEqual([]);
    const flagged = (await store.listChanges('prod-2', { limit: 1000 })).filter((change) => change.emergency);
    expect(flagged).toEqual([]);
  });

  it('marks the pair drift a staging change dev never had causes, and resolves it once dev catches up', async () => {
    const { aggregator, store, clock, events } = setup({ promotion: PROMOTION });
    await seedFleet(store);
    await aggregator.drift.settle();
    const before = events.length;
    clock.now += 1000;
    await changeHost(store, 'stg-1', clock.now, { 'runtime.node': '22.1.0' });
    await changeHost(store, 'stg-2', clock.now, { 'runtime.node': '22.1.0' });
    await aggregator.drift.settle();
    expect(await store.listDriftEvents({ kind: 'emergency' })).toEqual([]);
    const [pair] = await store
      .listDriftEvents({ kind: 'environment', status: 'open', environment: 'dev' })
      .then((list) => list.filter((event) => event.path === 'runtime.node'));
    expect(pair).toMatchObject({
      environment: 'dev',
      otherEnvironment: 'staging',
      expected: '20.11.1',
      actual: '22.1.0',
      hosts: ['stg-1', 'stg-2'],
      emergency: true,
      upstream: 'dev',
    });
    // staging-production differs on node now too (not an emergency: production did not change).
    const published = events.slice(before);
    expect(published.map((event) => event.type)).toEqual(['drift.opened', 'drift.opened']);
    clock.now += 1000;
    await changeHost(store, 'dev-1', clock.now, { 'runtime.node': '22.1.0' });
    await aggregator.drift.settle();
    const resolved = events.slice(before).filter((e) => e.type === 'drift.resolved');
    expect(resolved).toHaveLength(1);
    expect(resolved[0]?.data).toMatchObject({ id: pair?.id, resolution: 'fixed', emergency: true });
  });
});

describe('persistence', () => {
  it('keeps open events across a restart without opening duplicates, and resolves what changed meanwhile', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'envparity-drift-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const dbPath = join(dir, 'envparity.db');
    const first = createAggregator({ dbPath, flushIntervalMs: 1, promotion: PROMOTION });
    await seedFleet(first.store);
    await first.drift.settle();
    const before = await first.store.listDriftEvents({ status: 'open' });
    expect(before).toHaveLength(4);
    await first.stop();

    const second = createAggregator({ dbPath, flushIntervalMs: 1, promotion: PROMOTION });
    cleanups.push(() => second.stop());
    await second.drift.settle();
    expect(await second.store.listDriftEvents({ status: 'open' })).toEqual(before);
    await changeHost(second.store, 'prod-3', T0 + 10_000, { 'config.env.LOG_LEVEL': 'info' });
    await second.drift.settle();
    expect(await second.store.listDriftEvents({ status: 'open' })).toHaveLength(3);
  });
});

describe('webhooks', () => {
  it('delivers drift events to the configured webhooks', async () => {
    const received: { type: string; data: { kind?: string; path?: string } }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        received.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;
    const { aggregator, store } = setup({
      promotion: PROMOTION,
      webhooks: [{ url: `http://127.0.0.1:${port}/hook`, events: ['drift.opened'] }],
    });
    expect(aggregator.webhooks).toBeDefined();
    await seedFleet(store);
    await aggregator.drift.settle();
    await expect.poll(() => received.length, { timeout: 5000 }).toBe(4);
    expect(received.every((payload) => payload.type === 'drift.opened')).toBe(true);
    expect(received.map((payload) => payload.data.path)).toContain('library.openssl');
  });
});
