import { categoryOf, fingerprintMap, groupByCategory } from '@envparity/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addHost, changeHost, PROMOTION, seedFleet, serverFacts, T0 } from '../../testing/drift-fleet.js';
import { createTestApi, type TestApi } from '../../testing/test-api.js';
import { type CategoryBlob, computeBaseline, type HostSnapshot } from '../drift/baseline.js';
import { ConflictError, InvalidRequestError, NotFoundError } from '../errors.js';
import { hashToken } from '../token-hash.js';
import { HistoryQueries } from './history-queries.js';

const HOUR = 3_600_000;
let api: TestApi;
let history: HistoryQueries;

/**
 * T0: the standard fleet (prod-1..3 on openssl 3.0.11).
 * T0+2h: prod-1 and prod-2 upgrade to 3.0.13. T0+3h: prod-4 joins on 3.0.13. T0+4h: prod-3 is retired.
 */
beforeEach(async () => {
  api = createTestApi({ promotion: PROMOTION });
  const { store } = api.aggregator;
  await seedFleet(store);
  await changeHost(store, 'prod-1', T0 + 2 * HOUR, { 'library.openssl': '3.0.13', 'os.uptime': 1 });
  await changeHost(store, 'prod-2', T0 + 2 * HOUR, { 'library.openssl': '3.0.13' });
  await addHost(store, 'prod-4', 'production', serverFacts('prod-4', { 'library.openssl': '3.0.13' }), T0 + 3 * HOUR);
  api.clock.now = T0 + 4 * HOUR;
  expect(await store.retireHost('prod-3', T0 + 4 * HOUR, 'test')).toBe(true);
  api.clock.now = T0 + 5 * HOUR;
  history = api.aggregator.history;
});
afterEach(async () => {
  await api.aggregator.stop();
});

describe('a host at a past instant', () => {
  it('undoes the changes after T, leaves volatile facts out, and agrees with a forward replay', async () => {
    const before = await history.hostAt('prod-1', T0 + HOUR);
    expect(before.facts['library.openssl']).toBe('3.0.11');
    expect(before.facts['os.uptime']).toBeUndefined();
    expect(before.facts['host.hostname']).toBe('prod-1');
    expect(before.historyStartsAt).toBe(T0);
    // A change at exactly T is part of the state at T.
    expect((await history.hostAt('prod-1', T0 + 2 * HOUR)).facts['library.openssl']).toBe('3.0.13');
    for (const at of [T0, T0 + HOUR, T0 + 2 * HOUR - 1, T0 + 2 * HOUR, T0 + 5 * HOUR]) {
      const replay = await history.hostAt('prod-1', at, { method: 'replay' });
      const undo = await history.hostAt('prod-1', at, { method: 'undo' });
      expect(replay.facts).toEqual(undo.facts);
      expect(replay.fingerprint).toBe(undo.fingerprint);
    }
    // Now: the current facts minus volatile ones; the fingerprint is the live one (it ignores volatile facts).
    const now = await history.hostAt('prod-1', T0 + 5 * HOUR);
    expect(now.fingerprint).toBe(api.aggregator.store.getHost('prod-1')?.fingerprint);
    expect(before.fingerprint).not.toBe(now.fingerprint);
  });

  it('answers for a retired host, and refuses an instant before a host’s history or in the future', async () => {
    const retired = await history.hostAt('prod-3', T0 + HOUR);
    expect(retired.host.retiredAt).toBe(T0 + 4 * HOUR);
    expect(retired.facts['config.env.LOG_LEVEL']).toBe('warn');

    const early = history.hostAt('prod-4', T0 + HOUR);
    await expect(early).rejects.toBeInstanceOf(ConflictError);
    await expect(history.hostAt('prod-4', T0 + HOUR)).rejects.toThrow(
      `host "prod-4" has no history before ${new Date(T0 + 3 * HOUR).toISOString()}`,
    );
    await expect(history.hostAt('prod-1', T0 + 6 * HOUR)).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(history.hostAt('ghost', T0)).rejects.toBeInstanceOf(NotFoundError);
    // Enrolled but never reported: no history at all.
    await api.aggregator.store.enrollHost({
      hostId: 'new-1',
      tokenHash: hashToken('new-1'),
      environment: 'production',
      labels: {},
      agentVersion: '0.1.0',
      at: T0,
    });
    await expect(history.hostAt('new-1', T0 + HOUR)).rejects.toThrow(/never reported/);
  });
});

describe('a baseline at a past instant', () => {
  it('is made of the hosts that existed then, a host retired since included, each as it was', async () => {
    const early = await history.baselineAt('production', T0 + HOUR);
    expect(early.baseline.hosts).toBe(3);
    expect(early.hostsLeftOut).toBe(1);
    expect(early.baseline.facts['library.openssl']).toBe('3.0.11');
    expect(early.baseline.support['config.env.LOG_LEVEL']).toBe(2);

    const upgraded = await history.baselineAt('production', T0 + 2 * HOUR);
    expect(upgraded.baseline.facts['library.openssl']).toBe('3.0.13');
    expect(upgraded.baseline.support['library.openssl']).toBe(2);

    // After the retirement: prod-1, prod-2, prod-4.
    const late = await history.baselineAt('production', T0 + 5 * HOUR);
    expect(late.baseline.hosts).toBe(3);
    expect(late.hostsLeftOut).toBe(0);
    expect(late.baseline.support['config.env.LOG_LEVEL']).toBe(3);
    expect(late.baseline.facts).toEqual(api.aggregator.queries.environment('production').baseline.facts);
  });

  it('is kept while only later changes arrive, and rebuilt when the past moves (late change, new host)', async () => {
    const { store, queries } = api.aggregator;
    const fresh = () =>
      new HistoryQueries({ queries, store, now: () => api.clock.now }).baselineAt('production', T0 + HOUR);
    const first = await history.baselineAt('production', T0 + HOUR);
    expect(await history.baselineAt('production', T0 + HOUR)).toBe(first);
    // The fleet's normal traffic: changes after T leave the past as it was.
    api.clock.now = T0 + 6 * HOUR;
    await changeHost(store, 'prod-1', T0 + 6 * HOUR, { 'library.openssl': '3.0.15' });
    expect(await history.baselineAt('production', T0 + HOUR)).toBe(first);
    expect(first).toEqual(await fresh());
    // A late report (an agent's spool) with a change observed before T: the past moved.
    await changeHost(store, 'prod-2', T0 + HOUR - 1, { 'config.env.LOG_LEVEL': 'debug' });
    const late = await history.baselineAt('production', T0 + HOUR);
    expect(late).not.toBe(first);
    expect(late).toEqual(await fresh());
    // A new host: the hosts left out at T change.
    await addHost(store, 'prod-5', 'production', serverFacts('prod-5'), T0 + 6 * HOUR);
    const joined = await history.baselineAt('production', T0 + HOUR);
    expect(joined.hostsLeftOut).toBe(late.hostsLeftOut + 1);
    expect(joined).toEqual(await fresh());
  });

  it('reports a tie as the live baseline does instead of breaking it', async () => {
    // prod-2 goes back to 3.0.11 at T0+2h30; at T0+3h30 prod-1 and prod-4 run 3.0.13, prod-2 and
    // prod-3 (retired later) 3.0.11: two against two.
    await changeHost(api.aggregator.store, 'prod-2', T0 + 2.5 * HOUR, { 'library.openssl': '3.0.11' });
    const tie = await history.baselineAt('production', T0 + 3.5 * HOUR);
    expect(tie.baseline.facts['library.openssl']).toBeUndefined();
    expect(tie.baseline.ties).toContainEqual({
      path: 'library.openssl',
      candidates: [
        { value: '3.0.11', hosts: 2 },
        { value: '3.0.13', hosts: 2 },
      ],
    });
  });

  it('undoes the changes a host made in its previous environment after T', async () => {
    const { store } = api.aggregator;
    // stg-2 changes in staging, then moves to production and changes again.
    await changeHost(store, 'stg-2', T0 + 4.2 * HOUR, { 'config.env.LOG_LEVEL': 'debug' });
    await store.enrollHost({
      hostId: 'stg-2',
      tokenHash: hashToken('stg-2-again'),
      environment: 'production',
      labels: {},
      agentVersion: '0.1.0',
      at: T0 + 4.4 * HOUR,
    });
    await changeHost(store, 'stg-2', T0 + 4.6 * HOUR, { 'config.env.LOG_LEVEL': 'error' });
    api.clock.now = T0 + 5 * HOUR;
    // At T0+4h production held prod-1, prod-2, prod-4 (info) and stg-2 as it was then (info, in staging).
    const past = await history.baselineAt('production', T0 + 4.1 * HOUR);
    expect(past.baseline.hosts).toBe(4);
    expect(past.baseline.support['config.env.LOG_LEVEL']).toBe(4);
    expect(past.baseline.facts['config.env.LOG_LEVEL']).toBe('info');
  });

  it('is computeBaseline over the hosts’ states at T, whichever hosts the live baseline counts', async () => {
    const { store } = api.aggregator;
    // Ties and a strict majority on undone paths: prod-2 back to 3.0.11, prod-4 drops a package.
    await changeHost(store, 'prod-2', T0 + 4.5 * HOUR, {
      'library.openssl': '3.0.11',
      'config.env.LOG_LEVEL': 'debug',
    });
    await changeHost(store, 'prod-4', T0 + 4.6 * HOUR, {}, ['library.dpkg.curl']);
    api.clock.now = T0 + 5 * HOUR;
    const ids = ['prod-1', 'prod-2', 'prod-3', 'prod-4'];
    const presences: Record<string, string[]> = { all: ids, none: [], some: ['prod-1'] };
    let checked = 0;
    for (const online of Object.values(presences)) {
      for (const id of ids) api.presence.set(id, online.includes(id));
      for (const at of [T0, T0 + HOUR, T0 + 2 * HOUR, T0 + 3 * HOUR, T0 + 4 * HOUR, T0 + 4.5 * HOUR, T0 + 5 * HOUR]) {
        // The definition: every member then (retired after T included) with history by T, as it was.
        const snapshots: HostSnapshot[] = [];
        for (const host of [...store.listHosts(), ...store.listRetiredHosts()]) {
          if (host.environment !== 'production' || (host.retiredAt !== null && host.retiredAt <= at)) continue;
          const start = (await store.getInitialState(host.id))?.at;
          if (start === undefined || start > at) continue;
          const { facts } = await history.hostAt(host.id, at);
          const categories = new Map<string, CategoryBlob>();
          for (const [category, map] of groupByCategory(facts, categoryOf))
            categories.set(category, { hash: fingerprintMap(map), facts: map });
          snapshots.push({
            id: host.id,
            environment: 'production',
            online: true,
            counted: true,
            categories,
            factsVersion: 0,
          });
        }
        const expected = computeBaseline('production', snapshots, api.aggregator.queries.classify);
        const past = await history.baselineAt('production', at);
        expect(past.baseline).toEqual(expected);
        checked++;
      }
    }
    expect(checked).toBe(21);
  });

  it('refuses an unknown environment and a future instant', async () => {
    await expect(history.baselineAt('prod', T0)).rejects.toBeInstanceOf(NotFoundError);
    await expect(history.baselineAt('production', T0 + 6 * HOUR, { param: 'toAt' })).rejects.toThrow(/`toAt`/);
  });
});

describe('a compare at a past instant', () => {
  it('judges both sides at T like the live compare, or one side each', async () => {
    const live = await api.aggregator.queries.compare({ environment: 'staging' }, { environment: 'production' });
    const now = await history.compareAt(
      { environment: 'staging' },
      { environment: 'production' },
      { fromAt: T0 + 5 * HOUR, toAt: T0 + 5 * HOUR },
    );
    expect(now.differences).toEqual(live.differences);
    expect(now.parity).toBe(live.parity);

    const past = await history.compareAt(
      { environment: 'staging' },
      { environment: 'production' },
      { toAt: T0 + HOUR },
    );
    expect(past.fromAt).toBeNull();
    expect(past.toAt).toBe(T0 + HOUR);
    expect(past.differences).toContainEqual(
      expect.objectContaining({ path: 'library.openssl', from: '3.0.13', to: '3.0.11', status: 'drift' }),
    );
    expect(live.differences.some((d) => d.path === 'library.openssl')).toBe(false);

    const hosts = await history.compareAt({ host: 'prod-1' }, { environment: 'production' }, { fromAt: T0 + HOUR });
    expect(hosts.from.label).toBe('host:prod-1');
    expect(hosts.differences).toContainEqual(
      expect.objectContaining({ path: 'library.openssl', from: '3.0.11', to: '3.0.13' }),
    );
  });
});

describe('the environment change feed', () => {
  it('pages newest first with a cursor that never repeats or skips changes at the same millisecond', async () => {
    const { store } = api.aggregator;
    for (let i = 0; i < 5; i++) await changeHost(store, 'prod-1', T0 + 4.5 * HOUR, { [`config.env.X${i}`]: String(i) });
    const seen: string[] = [];
    let before: { at: number; skip: number } | undefined;
    for (let page = 0; page < 10; page++) {
      const { items, next } = await history.environmentChanges('production', {
        limit: 2,
        ...(before ? { before } : {}),
      });
      seen.push(...items.map((c) => `${c.hostId}:${c.seq}:${c.path}`));
      if (!next) break;
      before = next;
    }
    const all = await store.listEnvironmentChanges('production', { order: 'newest', limit: 100 });
    expect(seen).toEqual(all.map((c) => `${c.hostId}:${c.seq}:${c.path}`));
    // prod-1 and prod-2 at T0+2h (uptime is volatile: not recorded), five at T0+4h30.
    expect(seen).toHaveLength(7);
  });

  it('filters by time window and path glob, a plain path covering the paths under it', async () => {
    const { store } = api.aggregator;
    await changeHost(store, 'prod-1', T0 + 4.5 * HOUR, { 'library.dpkg.curl': '8', 'config.env.A': 'a' });
    const library = await history.environmentChanges('production', { limit: 10, path: 'library' });
    expect(library.items.map((c) => c.path)).toEqual(['library.dpkg.curl', 'library.openssl', 'library.openssl']);
    const glob = await history.environmentChanges('production', { limit: 10, path: 'library.*' });
    expect(glob.items.map((c) => c.path)).toEqual(['library.openssl', 'library.openssl']);
    const window = await history.environmentChanges('production', {
      limit: 10,
      since: T0 + HOUR,
      until: T0 + 3 * HOUR,
    });
    expect(window.items.map((c) => c.hostId)).toEqual(['prod-2', 'prod-1']);
    expect(window.next).toBeNull();
    const paged = await history.environmentChanges('production', { limit: 1, path: 'library' });
    expect(paged.items).toHaveLength(1);
    const rest = await history.environmentChanges('production', {
      limit: 10,
      path: 'library',
      ...(paged.next ? { before: paged.next } : {}),
    });
    expect(rest.items.map((c) => c.path)).toEqual(['library.openssl', 'library.openssl']);
    await expect(history.environmentChanges('prod', { limit: 1 })).rejects.toBeInstanceOf(NotFoundError);
  });
});
