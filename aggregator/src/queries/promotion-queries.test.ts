import { afterEach, describe, expect, it } from 'vitest';
import { addHost, changeHost, PROMOTION, serverFacts, T0 } from '../../testing/drift-fleet.js';
import { createTestApi, type TestApi } from '../../testing/test-api.js';
import { PROMOTION_NOT_CONFIGURED, PromotionQueries } from './promotion-queries.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let api: TestApi;
afterEach(async () => {
  await api.aggregator.stop();
});

/** dev-1; stg-1, stg-2; prod-1, prod-2: all alike at T0 and online (so they keep counting as time passes). */
async function fleet(options: Parameters<typeof createTestApi>[0] = {}): Promise<PromotionQueries> {
  api = createTestApi({ promotion: PROMOTION, ...options });
  const hosts = { dev: ['dev-1'], staging: ['stg-1', 'stg-2'], production: ['prod-1', 'prod-2'] };
  for (const [environment, ids] of Object.entries(hosts)) {
    for (const id of ids) {
      await addHost(api.aggregator.store, id, environment, serverFacts(id));
      api.presence.set(id, true);
    }
  }
  return new PromotionQueries({
    queries: api.aggregator.queries,
    store: api.aggregator.store,
    now: () => api.clock.now,
  });
}

/** Moves the clock to `at` and applies the change there. */
async function change(hostId: string, at: number, set: Record<string, string | number>): Promise<void> {
  api.clock.now = Math.max(api.clock.now, at);
  await changeHost(api.aggregator.store, hostId, at, set);
}

async function pair(promotion: PromotionQueries, from: string, to: string) {
  const report = await promotion.report({ from, to });
  expect(report.pairs).toHaveLength(1);
  return report.pairs[0] as (typeof report.pairs)[number];
}

describe('PromotionQueries: waiting changes', () => {
  it('a staging change waits for production: 0 of 2, then 1 of 2, then leaves once production’s baseline has it', async () => {
    const promotion = await fleet();
    await change('dev-1', T0 + HOUR / 2, { 'library.openssl': '3.0.14' });
    await change('stg-1', T0 + HOUR, { 'library.openssl': '3.0.14' });
    await change('stg-2', T0 + 2 * HOUR, { 'library.openssl': '3.0.14' });
    api.clock.now = T0 + 3 * HOUR;

    const first = await pair(promotion, 'staging', 'production');
    expect(first.waiting).toEqual([
      {
        path: 'library.openssl',
        category: 'library',
        value: '3.0.14',
        previous: '3.0.13',
        since: T0 + HOUR,
        majoritySince: T0 + 2 * HOUR,
        ageSeconds: 7200,
        fromHosts: 2,
        fromTotal: 2,
        toHosts: 0,
        toTotal: 2,
        toValue: '3.0.13',
        action: 'promote',
      },
    ]);
    expect(first.outOfOrder).toEqual([]);
    // dev had it first and staging has it now: nothing waits between them.
    expect((await pair(promotion, 'dev', 'staging')).waiting).toEqual([]);

    await change('prod-1', T0 + 4 * HOUR, { 'library.openssl': '3.0.14' });
    const half = await pair(promotion, 'staging', 'production');
    expect(half.waiting).toHaveLength(1);
    // production is tied 1:1, so its baseline holds neither value.
    expect(half.waiting[0]).toMatchObject({ toHosts: 1, toTotal: 2, ageSeconds: 3 * 3600 });
    expect(half.waiting[0]).not.toHaveProperty('toValue');

    await change('prod-2', T0 + 5 * HOUR, { 'library.openssl': '3.0.14' });
    const done = await pair(promotion, 'staging', 'production');
    expect(done.waiting).toEqual([]);
    expect(done.outOfOrder).toEqual([]);
  });

  it('majoritySince is null while the value leads without a majority; a host that joins with it counts from its enrollment', async () => {
    const promotion = await fleet();
    await addHost(api.aggregator.store, 'stg-3', 'staging', serverFacts('stg-3', { 'runtime.node': '20.12.0' }), T0);
    await addHost(api.aggregator.store, 'stg-4', 'staging', serverFacts('stg-4', { 'runtime.node': '18.19.0' }), T0);
    for (const id of ['stg-3', 'stg-4']) api.presence.set(id, true);
    // 4 staging hosts: 20.11.1 x2, 20.12.0, 18.19.0. Two move to 22: it leads (2 of 4) but is no majority.
    await change('stg-1', T0 + HOUR, { 'runtime.node': '22.1.0' });
    await change('stg-3', T0 + 2 * HOUR, { 'runtime.node': '22.1.0' });
    api.clock.now = T0 + 3 * HOUR;
    expect((await pair(promotion, 'staging', 'production')).waiting).toMatchObject([
      { path: 'runtime.node', value: '22.1.0', since: T0 + HOUR, majoritySince: null, fromHosts: 2, fromTotal: 4 },
    ]);
    // A fifth host joins with it at +4h: 3 of 5 is a majority from then on.
    api.clock.now = T0 + 4 * HOUR;
    await addHost(
      api.aggregator.store,
      'stg-5',
      'staging',
      serverFacts('stg-5', { 'runtime.node': '22.1.0' }),
      T0 + 4 * HOUR,
    );
    api.presence.set('stg-5', true);
    expect((await pair(promotion, 'staging', 'production')).waiting).toMatchObject([
      { path: 'runtime.node', since: T0 + HOUR, majoritySince: T0 + 4 * HOUR, fromHosts: 3, fromTotal: 5 },
    ]);
  });

  it('lists waiting changes oldest first, each with its own age', async () => {
    const promotion = await fleet();
    for (const id of ['stg-1', 'stg-2']) await change(id, T0 + 2 * DAY, { 'runtime.python': '3.12.1' });
    for (const id of ['stg-1', 'stg-2']) await change(id, T0 + DAY, { 'library.glibc': '2.37' });
    api.clock.now = T0 + 3 * DAY;
    const { waiting } = await pair(promotion, 'staging', 'production');
    expect(waiting.map((item) => [item.path, item.ageSeconds])).toEqual([
      ['library.glibc', 2 * 86_400],
      ['runtime.python', 86_400],
    ]);
  });

  it('never counts volatile, identity or scale paths', async () => {
    const promotion = await fleet();
    for (const id of ['stg-1', 'stg-2']) {
      await change(id, T0 + HOUR, {
        'hardware.cpu.cores': 32,
        'hardware.memory.free': 1234,
        'os.uptime': 99,
        'host.machineId': `new-${id}`,
      });
      await change(id, T0 + HOUR, { 'library.glibc': '2.37' });
    }
    for (const id of ['prod-1', 'prod-2']) await change(id, T0 + 2 * HOUR, { 'hardware.cpu.cores': 64 });
    api.clock.now = T0 + 3 * HOUR;
    const result = await pair(promotion, 'staging', 'production');
    expect(result.waiting.map((item) => item.path)).toEqual(['library.glibc']);
    expect(result.outOfOrder).toEqual([]);
  });

  it('a difference an active exception covers does not wait (listed as justified); once it expires it waits again', async () => {
    const promotion = await fleet();
    for (const id of ['stg-1', 'stg-2']) await change(id, T0 + HOUR, { 'library.openssl': '3.0.14' });
    const created = await api.request('POST', '/api/v1/exceptions', {
      body: {
        path: 'library.*',
        environments: ['production', 'staging'],
        reason: 'production upgrades after the freeze',
        expiresAt: new Date(T0 + 2 * DAY).toISOString(),
      },
    });
    expect(created.status).toBe(201);
    api.clock.now = T0 + DAY;
    const covered = await pair(promotion, 'staging', 'production');
    expect(covered.waiting).toEqual([]);
    expect(covered.justified).toEqual([
      {
        path: 'library.openssl',
        category: 'library',
        value: '3.0.14',
        toValue: '3.0.13',
        exception: { id: created.body.id, reason: 'production upgrades after the freeze' },
      },
    ]);
    // Another pair is not covered by it.
    expect((await pair(promotion, 'dev', 'staging')).outOfOrder.map((item) => item.path)).toEqual(['library.openssl']);

    api.clock.now = T0 + 3 * DAY;
    const expired = await pair(promotion, 'staging', 'production');
    expect(expired.justified).toEqual([]);
    expect(expired.waiting.map((item) => item.path)).toEqual(['library.openssl']);
  });

  it('a value staging held before any change to it is no promotion (a remediated outlier, a difference they always had)', async () => {
    api = createTestApi({ promotion: PROMOTION });
    for (const id of ['stg-1', 'stg-2']) await addHost(api.aggregator.store, id, 'staging', serverFacts(id));
    for (const id of ['prod-1', 'prod-2']) {
      await addHost(api.aggregator.store, id, 'production', serverFacts(id, { 'config.env.LOG_LEVEL': 'warn' }));
    }
    for (const id of ['stg-1', 'stg-2', 'prod-1', 'prod-2']) api.presence.set(id, true);
    const promotion = new PromotionQueries({
      queries: api.aggregator.queries,
      store: api.aggregator.store,
      now: () => api.clock.now,
    });
    await change('stg-1', T0 + HOUR, { 'config.env.LOG_LEVEL': 'debug' });
    await change('stg-1', T0 + 2 * HOUR, { 'config.env.LOG_LEVEL': 'info' });
    const result = await pair(promotion, 'staging', 'production');
    expect(result.waiting).toEqual([]);
    // production always had warn: no change reached it out of order either.
    expect(result.outOfOrder).toEqual([]);
  });

  it('leaves out secrets the secretPolicy expects to differ', async () => {
    const hash = (c: string) => `hmac-sha256:${c.repeat(64)}`;
    const promotion = await fleet({ secretPolicy: [{ glob: 'config.env.DB_PASSWORD', expect: 'differ' }] });
    for (const id of ['stg-1', 'stg-2']) {
      await change(id, T0 + HOUR, { 'config.env.DB_PASSWORD': hash('a'), 'config.env.API_TOKEN': hash('b') });
    }
    const { waiting } = await pair(promotion, 'staging', 'production');
    expect(waiting.map((item) => item.path)).toEqual(['config.env.API_TOKEN']);
    // Only the hash ever appears.
    expect(waiting[0]?.value).toBe(hash('b'));
  });
});

describe('PromotionQueries: out-of-order changes', () => {
  it('a production-only change is out of order until staging’s baseline has it; then dev is behind', async () => {
    const promotion = await fleet();
    for (const id of ['prod-1', 'prod-2']) await change(id, T0 + HOUR, { 'config.env.LOG_LEVEL': 'warn' });
    api.clock.now = T0 + 2 * HOUR;
    const first = await pair(promotion, 'staging', 'production');
    expect(first.outOfOrder).toEqual([
      {
        path: 'config.env.LOG_LEVEL',
        category: 'config',
        value: 'warn',
        previous: 'info',
        fromValue: 'info',
        since: T0 + HOUR,
        ageSeconds: 3600,
        fromHosts: 0,
        fromTotal: 2,
        toHosts: 2,
        toTotal: 2,
        action: 'apply to upstream',
      },
    ]);
    expect(first.waiting).toEqual([]);
    expect((await pair(promotion, 'dev', 'staging')).outOfOrder).toEqual([]);

    // The back-port under way: one staging host (tied, so not yet staging's baseline).
    await change('stg-1', T0 + 3 * HOUR, { 'config.env.LOG_LEVEL': 'warn' });
    expect((await pair(promotion, 'staging', 'production')).outOfOrder).toMatchObject([
      { path: 'config.env.LOG_LEVEL', fromHosts: 1, toHosts: 2 },
    ]);

    await change('stg-2', T0 + 4 * HOUR, { 'config.env.LOG_LEVEL': 'warn' });
    const done = await pair(promotion, 'staging', 'production');
    expect(done.outOfOrder).toEqual([]);
    expect(done.waiting).toEqual([]);
    // Staging got it without dev: now that is out of order one step up.
    expect((await pair(promotion, 'dev', 'staging')).outOfOrder).toMatchObject([
      { path: 'config.env.LOG_LEVEL', value: 'warn', since: T0 + 3 * HOUR, toHosts: 2, fromHosts: 0 },
    ]);
  });

  it('a hotfix on one host counts; one rolled back does not; one upstream got first is in order', async () => {
    const promotion = await fleet();
    await change('prod-1', T0 + HOUR, { 'library.dpkg.curl': '7.88.1-10+deb12u6' });
    await change('prod-2', T0 + HOUR, { 'runtime.node': '20.11.2' });
    await change('prod-2', T0 + 2 * HOUR, { 'runtime.node': '20.11.1' });
    api.clock.now = T0 + 3 * HOUR;
    const result = await pair(promotion, 'staging', 'production');
    expect(result.outOfOrder.map((item) => [item.path, item.toHosts])).toEqual([['library.dpkg.curl', 1]]);

    // In order: staging first, then production (staging moved on since).
    await change('stg-1', T0 + 4 * HOUR, { 'runtime.python': '3.12.0' });
    await change('stg-2', T0 + 4 * HOUR, { 'runtime.python': '3.12.0' });
    for (const id of ['prod-1', 'prod-2']) await change(id, T0 + 5 * HOUR, { 'runtime.python': '3.12.0' });
    for (const id of ['stg-1', 'stg-2']) await change(id, T0 + 6 * HOUR, { 'runtime.python': '3.12.1' });
    const later = await pair(promotion, 'staging', 'production');
    expect(later.outOfOrder.map((item) => item.path)).toEqual(['library.dpkg.curl']);
    expect(later.waiting.map((item) => [item.path, item.value])).toEqual([['runtime.python', '3.12.1']]);
  });

  it('a value the upstream started with (an initial state, no recorded change) is in order', async () => {
    const promotion = await fleet();
    await addHost(api.aggregator.store, 'dev-2', 'dev', serverFacts('dev-2', { 'library.openssl': '3.0.15' }), T0);
    for (const id of ['prod-1', 'prod-2']) await change(id, T0 + HOUR, { 'library.openssl': '3.0.15' });
    // dev is tied (3.0.13 / 3.0.15), so dev's baseline does not hold it, but dev had it before production.
    expect((await pair(promotion, 'dev', 'production')).outOfOrder).toEqual([]);
    expect((await pair(promotion, 'staging', 'production')).outOfOrder.map((item) => item.path)).toEqual([
      'library.openssl',
    ]);
  });
});

describe('PromotionQueries: pairs', () => {
  it('defaults to every adjacent pair of the promotion order', async () => {
    const promotion = await fleet();
    const report = await promotion.report();
    expect(report.pairs.map(({ from, to }) => `${from}->${to}`)).toEqual(['dev->staging', 'staging->production']);
    expect(report.note).toBeUndefined();
    expect(report.at).toBe(api.clock.now);
  });

  it('answers no pairs with a note when no promotion order is configured, yet any named pair still works', async () => {
    api = createTestApi();
    await addHost(api.aggregator.store, 'a-1', 'alpha', serverFacts('a-1'));
    await addHost(api.aggregator.store, 'b-1', 'beta', serverFacts('b-1'));
    const promotion = new PromotionQueries({ queries: api.aggregator.queries, store: api.aggregator.store });
    expect(await promotion.report()).toMatchObject({ pairs: [], note: PROMOTION_NOT_CONFIGURED });
    expect(await promotion.backlog()).toBeNull();
    await changeHost(api.aggregator.store, 'a-1', T0 + HOUR, { 'library.glibc': '2.37' });
    expect((await promotion.report({ from: 'alpha', to: 'beta' })).pairs[0]?.waiting.map((i) => i.path)).toEqual([
      'library.glibc',
    ]);
  });

  it('a declared environment without reporting hosts has nothing waiting for it, and says why', async () => {
    api = createTestApi({ promotion: PROMOTION });
    for (const id of ['stg-1', 'stg-2']) await addHost(api.aggregator.store, id, 'staging', serverFacts(id));
    for (const id of ['stg-1', 'stg-2'])
      await changeHost(api.aggregator.store, id, T0 + HOUR, { 'library.glibc': '2.37' });
    const promotion = new PromotionQueries({ queries: api.aggregator.queries, store: api.aggregator.store });
    const report = await promotion.report();
    expect(report.pairs.map((p) => [p.from, p.to, p.waiting.length, p.note])).toEqual([
      ['dev', 'staging', 0, 'dev has no reporting hosts yet: nothing can be tracked between dev and staging'],
      [
        'staging',
        'production',
        0,
        'production has no reporting hosts yet: nothing can be tracked between staging and production',
      ],
    ]);
    expect(await promotion.backlog()).toMatchObject({ waiting: 0, oldestSince: null });
    // Once production reports, the change waits for it.
    await addHost(api.aggregator.store, 'prod-1', 'production', serverFacts('prod-1'), T0 + 2 * HOUR);
    const [, stagingProduction] = (await promotion.report()).pairs;
    expect(stagingProduction?.note).toBeUndefined();
    expect(stagingProduction?.waiting.map((item) => item.path)).toEqual(['library.glibc']);
  });

  it('refuses an unknown environment (naming it) and the same environment twice', async () => {
    const promotion = await fleet();
    await expect(promotion.report({ from: 'staging', to: 'prod' })).rejects.toThrow(/unknown environment "prod"/);
    await expect(promotion.report({ from: 'staging', to: 'staging' })).rejects.toThrow(/`to`/);
  });

  it('the backlog counts waiting changes per adjacent pair and the oldest', async () => {
    const promotion = await fleet();
    await change('dev-1', T0 + HOUR, { 'library.glibc': '2.37' });
    for (const id of ['stg-1', 'stg-2']) await change(id, T0 + 2 * HOUR, { 'runtime.python': '3.12.1' });
    api.clock.now = T0 + 3 * DAY;
    expect(await promotion.backlog()).toEqual({
      pairs: [
        { from: 'dev', to: 'staging', waiting: 1, oldestSince: T0 + HOUR },
        { from: 'staging', to: 'production', waiting: 1, oldestSince: T0 + 2 * HOUR },
      ],
      waiting: 2,
      oldestSince: T0 + HOUR,
    });
  });

  it('with a look-back cap, changes older than it are not read', async () => {
    const promotion = await fleet();
    for (const id of ['stg-1', 'stg-2']) await change(id, T0 + HOUR, { 'library.glibc': '2.37' });
    for (const id of ['stg-1', 'stg-2']) await change(id, T0 + 10 * DAY, { 'runtime.python': '3.12.1' });
    api.clock.now = T0 + 11 * DAY;
    const capped = new PromotionQueries({
      queries: api.aggregator.queries,
      store: api.aggregator.store,
      now: () => api.clock.now,
      lookbackMs: 5 * DAY,
    });
    expect((await pair(capped, 'staging', 'production')).waiting.map((i) => i.path)).toEqual(['runtime.python']);
    expect((await pair(promotion, 'staging', 'production')).waiting.map((i) => i.path)).toEqual([
      'library.glibc',
      'runtime.python',
    ]);
  });
});
