import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { fullReport, serverFacts, T0 } from '../../testing/drift-fleet.js';
import { hashToken } from '../token-hash.js';
import { type FileException, PRESENCE_RETIRED_BY, type StoreEvent } from './fact-store.js';
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

function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'envparity-store-'));
  dirs.push(dir);
  return join(dir, 'envparity.db');
}

async function host(store: SqliteFactStore, id: string, environment: string) {
  await store.enrollHost({ hostId: id, tokenHash: hashToken(id), environment, labels: {}, agentVersion: null, at: T0 });
  await store.ingestReport({ hostId: id, report: fullReport(1, T0, serverFacts(id)), receivedAt: T0 });
}

const fileException = (id: string, overrides: Partial<FileException> = {}): FileException => ({
  id,
  path: 'config.env.LOG_LEVEL',
  environments: ['staging', 'production'],
  reason: 'verbose logs in staging',
  expiresAt: null,
  createdAt: T0,
  ...overrides,
});

describe('host retirement', () => {
  it('brings back a host retired for lack of contact, never one an admin retired', async () => {
    const path = tempDb();
    const store = open(path);
    await host(store, 'idle', 'production');
    await host(store, 'removed', 'production');
    await store.retireHost('idle', T0 + 5, PRESENCE_RETIRED_BY);
    await store.retireHost('removed', T0 + 5, 'ops');
    const events: StoreEvent[] = [];
    store.subscribe((event) => events.push(event));
    expect(await store.unretireHost('removed')).toBe(false);
    expect(await store.unretireHost('idle')).toBe(true);
    expect(await store.unretireHost('idle')).toBe(false);
    expect(store.listHosts().map((h) => h.id)).toEqual(['idle']);
    expect(events).toEqual([
      { type: 'host-updated', hostId: 'idle', environment: 'production', previousEnvironment: null },
    ]);
    await store.close();
    const reopened = open(path);
    expect(reopened.getHost('idle')?.retiredAt).toBeNull();
    expect(reopened.getHost('removed')?.retiredBy).toBe('ops');
  });

  it('takes the host out of listHosts, keeps its facts and history, and survives a restart', async () => {
    const path = tempDb();
    const store = open(path);
    await host(store, 'a', 'production');
    await host(store, 'b', 'production');
    const events: StoreEvent[] = [];
    store.subscribe((event) => events.push(event));
    expect(await store.retireHost('b', T0 + 5, 'ops')).toBe(true);
    expect(await store.retireHost('b', T0 + 6)).toBe(false);
    expect(await store.retireHost('nope', T0 + 6)).toBe(false);
    expect(store.listHosts().map((h) => h.id)).toEqual(['a']);
    expect(store.getHost('b')).toMatchObject({ retiredAt: T0 + 5, retiredBy: 'ops', environment: 'production' });
    expect(store.getHostFacts('b')).toMatchObject({ 'os.distro.id': 'debian' });
    // The token stays known, so the ingest can say "retired" instead of "unknown token".
    expect(store.findHostByTokenHash(hashToken('b'))).toBe('b');
    expect(events).toEqual([
      { type: 'host-updated', hostId: 'b', environment: null, previousEnvironment: 'production', retired: true },
    ]);
    await store.close();
    const reopened = open(path);
    expect(reopened.listHosts().map((h) => h.id)).toEqual(['a']);
    expect(reopened.getHost('b')?.retiredAt).toBe(T0 + 5);
    expect(reopened.getHost('a')?.retiredAt).toBeNull();
  });
});

describe('file exceptions', () => {
  it('replaces the file set, keeps unchanged ones (createdAt, expiredAt) and reports the environments touched', async () => {
    const path = tempDb();
    const store = open(path);
    const api = await store.createException({
      path: 'library.**',
      environments: ['dev'],
      reason: 'api one',
      expiresAt: null,
      createdAt: T0,
    });
    expect(await store.replaceFileExceptions('file:/x.yaml', [fileException('f1'), fileException('f2')])).toEqual([
      'production',
      'staging',
    ]);
    await store.writeDriftEvents({ open: [], resolve: [], expiredExceptions: [{ id: 'f1', at: T0 + 1 }] });
    // f1 unchanged (later createdAt is ignored), f2 changed environments, f3 new.
    const touched = await store.replaceFileExceptions('file:/x.yaml', [
      fileException('f1', { createdAt: T0 + 100 }),
      fileException('f2', { environments: ['qa'] }),
      fileException('f3', { environments: ['perf'] }),
    ]);
    expect(touched).toEqual(['perf', 'production', 'qa', 'staging']);
    const byId = new Map(store.listExceptions().map((record) => [record.id, record]));
    expect(byId.get('f1')).toMatchObject({ createdAt: T0, expiredAt: T0 + 1, source: 'file:/x.yaml' });
    expect(byId.get('f2')).toMatchObject({ environments: ['qa'], source: 'file:/x.yaml' });
    expect(byId.get(api.id)?.source).toBeUndefined();

    expect(
      await store.replaceFileExceptions('file:/x.yaml', [fileException('f3', { environments: ['perf'] })]),
    ).toEqual(['production', 'qa', 'staging']);
    await store.close();
    const reopened = open(path);
    // Order is by id, and the API exception's id is a random UUID: compare as a set.
    const byIdAfter = new Map(reopened.listExceptions().map((record) => [record.id, record.source]));
    expect(byIdAfter).toEqual(
      new Map<string, string | undefined>([
        [api.id, undefined],
        ['f3', 'file:/x.yaml'],
      ]),
    );
  });

  it('refuses a file id that an API exception already uses, changing nothing', async () => {
    const store = open();
    const api = await store.createException({
      path: 'library.**',
      environments: ['dev'],
      reason: 'api one',
      expiresAt: null,
      createdAt: T0,
    });
    await expect(store.replaceFileExceptions('file:/x.yaml', [fileException(api.id)])).rejects.toThrow(/already used/);
    expect(store.listExceptions()).toHaveLength(1);
  });
});

describe('migration 4', () => {
  it('keeps existing tokens and allows the verify scope', async () => {
    const path = tempDb();
    const db = new Database(path);
    migrate(db, MIGRATIONS.slice(0, 3));
    db.prepare(
      "INSERT INTO tokens (id, name, scope, token_hash, created_at) VALUES ('t1', 'ci', 'read', 'h1', 1)",
    ).run();
    expect(() =>
      db
        .prepare("INSERT INTO tokens (id, name, scope, token_hash, created_at) VALUES ('t2', 'v', 'verify', 'h2', 1)")
        .run(),
    ).toThrow(/CHECK/);
    db.close();
    const store = open(path);
    await store.createApiToken({ name: 'runner', scope: 'verify', tokenHash: 'h3', at: 2 });
    expect((await store.listApiTokens()).map((token) => [token.name, token.scope])).toEqual([
      ['ci', 'read'],
      ['runner', 'verify'],
    ]);
    expect(await store.findApiToken('h3')).toMatchObject({ scope: 'verify' });
  });
});
