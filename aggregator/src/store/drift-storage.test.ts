import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fingerprintMap } from '@envparity/shared';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { fullReport, serverFacts, T0 } from '../../testing/drift-fleet.js';
import { hashToken } from '../token-hash.js';
import { PRESENCE_RETIRED_BY, type StoreEvent } from './fact-store.js';
import { MIGRATIONS, migrate } from './migrations.js';
import { openSqliteFactStore, type SqliteFactStore } from './sqlite-fact-store.js';

const stores: SqliteFactStore[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function open(path = ':memory:'): SqliteFactStore {
  const store = openSqliteFactStore({ path, flushIntervalMs: 1 });
  stores.push(store);
  return store;
}

async function host(store: SqliteFactStore, id: string, environment: string, overrides = {}) {
  await store.enrollHost({ hostId: id, tokenHash: hashToken(id), environment, labels: {}, agentVersion: null, at: T0 });
  await store.ingestReport({ hostId: id, report: fullReport(1, T0, serverFacts(id, overrides)), receivedAt: T0 });
}

describe('drift storage', () => {
  it('knows every environment ever declared, stamps changes with it and answers history queries', async () => {
    const store = open();
    const events: StoreEvent[] = [];
    store.subscribe((event) => events.push(event));
    await host(store, 'a', 'staging', { 'library.openssl': '3.0.12' });
    await store.ingestReport({
      hostId: 'a',
      report: {
        type: 'report',
        seq: 2,
        observedAt: T0 + 1,
        delta: { library: { set: { 'library.openssl': '3.0.13' }, unset: [] } },
      },
      receivedAt: T0 + 1,
    });
    await store.updateHostInfo('a', { environment: 'qa', labels: {}, agentVersion: null });
    expect(store.listEnvironments()).toEqual(['qa', 'staging']);
    expect(await store.environmentHadValue('staging', 'library.openssl', '3.0.12')).toBe(true);
    expect(await store.environmentHadValue('staging', 'library.openssl', '3.0.13')).toBe(true);
    expect(await store.environmentHadValue('qa', 'library.openssl', '3.0.13')).toBe(false);
    expect(await store.environmentHadValue('staging', 'network.dns.servers', ['10.0.0.2', '10.0.0.3'])).toBe(true);
    // Many at once, one answer each in order: from changes, from initial states, neither, a bad path.
    expect(
      await store.environmentHadValues('staging', [
        { path: 'library.openssl', value: '3.0.13' },
        { path: 'network.dns.servers', value: ['10.0.0.3', '10.0.0.2'] },
        { path: 'library.openssl', value: '3.0.12' },
        { path: 'network.dns.servers', value: ['10.0.0.2', '10.0.0.3'] },
        { path: 'library.zlib', value: '1' },
        { path: 'not a path', value: '1' },
      ]),
    ).toEqual([true, false, true, true, false, false]);
    expect(await store.environmentHadValues('staging', [])).toEqual([]);
    expect(events.map((event) => event.type)).toEqual([
      'host-enrolled',
      'facts-changed',
      'facts-changed',
      'host-updated',
    ]);
    expect(events[1]).toMatchObject({ environment: 'staging', initial: true });
    expect(events[2]).toMatchObject({ environment: 'staging', initial: false });
    expect(events[3]).toEqual({ type: 'host-updated', hostId: 'a', environment: 'qa', previousEnvironment: 'staging' });

    await store.writeDriftEvents({
      open: [],
      resolve: [],
      emergencyChanges: [{ hostId: 'a', seq: 2, path: 'library.openssl' }],
    });
    const changes = await store.listChanges('a', { since: T0 + 1, limit: 10 });
    expect(changes).toEqual([expect.objectContaining({ path: 'library.openssl', emergency: true })]);
  });

  it('writes a pass whole: emergency flags, noticed expiries, retirements and events commit together or not at all', async () => {
    const store = open();
    await host(store, 'a', 'staging', { 'library.openssl': '3.0.12' });
    await store.ingestReport({
      hostId: 'a',
      report: {
        type: 'report',
        seq: 2,
        observedAt: T0 + 1,
        delta: { library: { set: { 'library.openssl': '3.0.13' }, unset: [] } },
      },
      receivedAt: T0 + 1,
    });
    const exception = await store.createException({
      path: 'library.*',
      environments: ['staging'],
      reason: 'r',
      expiresAt: T0,
      createdAt: T0,
    });
    const event = {
      key: 'k',
      kind: 'outlier' as const,
      environment: 'staging',
      hostId: 'a',
      path: 'library.openssl',
      openedAt: T0,
    };
    await store.writeDriftEvents({ open: [event], resolve: [] });
    await host(store, 'gone', 'staging', { 'library.openssl': '3.0.12' });
    const events: StoreEvent[] = [];
    store.subscribe((e) => events.push(e));
    const pass = {
      emergencyChanges: [{ hostId: 'a', seq: 2, path: 'library.openssl' }],
      expiredExceptions: [{ id: exception.id, at: T0 + 5 }],
      retire: [{ hostId: 'gone', at: T0 + 5, by: PRESENCE_RETIRED_BY }],
    };
    // The same key opened twice fails the write: nothing of the pass is kept, in the database or in memory.
    await expect(store.writeDriftEvents({ ...pass, open: [event], resolve: [] })).rejects.toThrow();
    expect((await store.listChanges('a', { since: T0 + 1, limit: 10 }))[0]?.emergency).toBeUndefined();
    expect(store.listExceptions()[0]?.expiredAt).toBeNull();
    expect(store.getHost('gone')?.retiredAt).toBeNull();
    expect(store.db.prepare("SELECT retired_at FROM hosts WHERE id = 'gone'").get()).toEqual({ retired_at: null });
    expect(events).toEqual([]);
    await store.writeDriftEvents({ ...pass, open: [], resolve: [] });
    expect((await store.listChanges('a', { since: T0 + 1, limit: 10 }))[0]?.emergency).toBe(true);
    expect(store.listExceptions()[0]?.expiredAt).toBe(T0 + 5);
    expect(store.getHost('gone')).toMatchObject({ retiredAt: T0 + 5, retiredBy: PRESENCE_RETIRED_BY });
    expect(store.listHosts().map((h) => h.id)).toEqual(['a']);
    expect(events).toEqual([
      { type: 'host-updated', hostId: 'gone', environment: null, previousEnvironment: 'staging', retired: true },
    ]);
    // A host retired already is left as it was.
    await store.writeDriftEvents({ open: [], resolve: [], retire: [{ hostId: 'gone', at: T0 + 9, by: 'x' }] });
    expect(store.getHost('gone')?.retiredAt).toBe(T0 + 5);
    expect(events).toHaveLength(1);
  });

  it('stores exceptions and drift events, and keeps them across a reopen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'envparity-store-'));
    dirs.push(dir);
    const path = join(dir, 'envparity.db');
    const store = open(path);
    const exception = await store.createException({
      path: 'library.*',
      environments: ['staging', 'production'],
      reason: 'freeze',
      owner: 'platform',
      expiresAt: T0 + 1000,
      createdAt: T0,
      createdBy: 'admin',
    });
    await store.writeDriftEvents({ open: [], resolve: [], expiredExceptions: [{ id: exception.id, at: T0 + 2000 }] });
    const [opened, other] = await store.writeDriftEvents({
      open: [
        {
          key: 'k1',
          kind: 'outlier',
          environment: 'production',
          hostId: 'p3',
          path: 'config.env.A',
          expected: null,
          actual: 'x',
          openedAt: T0,
        },
        {
          key: 'k2',
          kind: 'environment',
          environment: 'staging',
          otherEnvironment: 'production',
          path: 'library.openssl',
          expected: '1',
          openedAt: T0 + 1,
        },
      ],
      resolve: [],
    });
    // `null` is a value; absent is absent.
    expect(opened).toMatchObject({ id: '1', key: 'k1', status: 'open', expected: null, actual: 'x', resolvedAt: null });
    expect(other).not.toHaveProperty('actual');
    await expect(
      store.writeDriftEvents({
        open: [{ key: 'k1', kind: 'outlier', environment: 'e', path: 'p', openedAt: T0 }],
        resolve: [],
      }),
    ).rejects.toThrow(/cannot write drift events/);
    await store.writeDriftEvents({ open: [], resolve: [{ id: '2', at: T0 + 5 }], update: [{ id: '1', actual: 'y' }] });
    await store.close();

    const reopened = open(path);
    expect(reopened.listExceptions()).toEqual([{ ...exception, expiredAt: T0 + 2000 }]);
    // An update replaces both values: `expected` was not given, so it is absent now.
    const { expected: _cleared, ...rest } = opened as NonNullable<typeof opened>;
    expect(await reopened.listDriftEvents({ status: 'open' })).toEqual([{ ...rest, actual: 'y' }]);
    expect(await reopened.listDriftEvents({ status: 'resolved' })).toMatchObject([{ id: '2', resolvedAt: T0 + 5 }]);
    expect(await reopened.deleteException(exception.id)).toBe(true);
    expect(await reopened.deleteException(exception.id)).toBe(false);
  });

  it('migrates a version 1 database: history keeps its host environments', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'envparity-store-'));
    dirs.push(dir);
    const path = join(dir, 'envparity.db');
    const db = new Database(path);
    migrate(db, MIGRATIONS.slice(0, 1));
    db.prepare(
      "INSERT INTO hosts (id, environment, labels, token_hash, enrolled_at) VALUES ('a', 'staging', '{}', 'h', ?)",
    ).run(T0);
    db.prepare(
      "INSERT INTO changes (host_id, seq, at, path, from_value, to_value) VALUES ('a', 1, ?, 'library.openssl', NULL, '\"3.0.9\"')",
    ).run(T0);
    db.close();
    const store = open(path);
    expect(store.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(store.listEnvironments()).toEqual(['staging']);
    expect(await store.environmentHadValue('staging', 'library.openssl', '3.0.9')).toBe(true);
  });

  it('migrates a version 7 database to rowid blobs: facts, initial states and references kept, still enforced', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'envparity-store-'));
    dirs.push(dir);
    const path = join(dir, 'envparity.db');
    const db = new Database(path);
    db.pragma('foreign_keys = ON');
    migrate(db, MIGRATIONS.slice(0, 7));
    const facts = { 'library.dpkg.openssl': '3.0.11' };
    const hash = fingerprintMap(facts);
    db.prepare(
      "INSERT INTO hosts (id, environment, labels, token_hash, enrolled_at, last_seq) VALUES ('a', 'staging', '{}', 'h', ?, 1)",
    ).run(T0);
    db.prepare('INSERT INTO blobs (hash, data) VALUES (?, ?)').run(hash, JSON.stringify(facts));
    db.prepare("INSERT INTO host_categories (host_id, category, blob_hash) VALUES ('a', 'library', ?)").run(hash);
    db.prepare(
      "INSERT INTO initial_states (host_id, seq, at, environment, category, blob_hash) VALUES ('a', 1, ?, 'staging', 'library', ?)",
    ).run(T0, hash);
    db.close();
    const store = open(path);
    expect(store.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(store.getHostFacts('a')).toEqual(facts);
    expect(store.getBlob(hash)).toEqual(facts);
    // The new table is a rowid table, and a reference to a blob that does not exist is still refused.
    const sql = store.db.prepare("SELECT sql FROM sqlite_master WHERE name = 'blobs'").pluck().get() as string;
    expect(sql).not.toMatch(/WITHOUT ROWID/);
    expect(() =>
      store.db.prepare("INSERT INTO host_categories (host_id, category, blob_hash) VALUES ('a', 'os', 'nope')").run(),
    ).toThrow(/FOREIGN KEY/);
    expect(await store.integrityCheck()).toBe('ok');
  });
});
