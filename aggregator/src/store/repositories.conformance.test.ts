/**
 * One conformance suite for the repositories (issue 11, requirement 3): every behaviour the rest of
 * the aggregator relies on, through the interfaces only. A second backend (PostgreSQL, issue 15)
 * adds its factory to BACKENDS and runs the same cases.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { usePostgresCluster } from '../../../test/helpers/store-backends.js';
import { type ApiTokenRepository, SqliteApiTokenRepository } from './api-token-repository.js';
import { type AuditRepository, SqliteAuditRepository } from './audit-repository.js';
import { type ChangeHistoryRepository, SqliteChangeHistoryRepository } from './change-history-repository.js';
import { type DeclaredClassRepository, SqliteDeclaredClassRepository } from './declared-class-repository.js';
import { type DriftEventRepository, SqliteDriftEventRepository } from './drift-event-repository.js';
import { type ExceptionRepository, SqlExceptionRepository } from './exception-repository.js';
import { type HostFactsRepository, SqliteHostFactsRepository } from './host-facts-repository.js';
import { migrate } from './migrations.js';
import { PgBridge } from './postgres/pg-bridge.js';
import { migratePostgres } from './postgres/pg-migrations.js';
import { openPgRepositories } from './postgres/pg-repositories.js';
import { SqliteSqlPort } from './sql-port.js';

interface Repositories {
  tokens: ApiTokenRepository;
  driftEvents: DriftEventRepository;
  exceptions: ExceptionRepository;
  hostFacts: HostFactsRepository;
  changes: ChangeHistoryRepository;
  audits: AuditRepository;
  declaredClasses: DeclaredClassRepository;
  /** The same backend opened again (what a restart sees). */
  reopen(): Repositories;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function sqliteBackend(): Repositories {
  const dir = mkdtempSync(join(tmpdir(), 'envparity-repos-'));
  const path = join(dir, 'envparity.db');
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const open = (): Repositories => {
    const db = new Database(path);
    cleanups.push(() => db.close());
    migrate(db);
    return {
      tokens: new SqliteApiTokenRepository(db),
      driftEvents: new SqliteDriftEventRepository(db),
      exceptions: new SqlExceptionRepository(new SqliteSqlPort(db)),
      hostFacts: new SqliteHostFactsRepository(db),
      changes: new SqliteChangeHistoryRepository(db),
      audits: new SqliteAuditRepository(db),
      declaredClasses: new SqliteDeclaredClassRepository(db),
      reopen: open,
    };
  };
  return open();
}

/** One cluster for the file, a new database per test. */
const postgres = usePostgresCluster();
/** Drift event keys are joined with NUL (drift/event-records.ts); a backslash among the parts too. */
const PAIR_KEY = 'environment\0staging\0prod\0\\0\0config.env.X';

function postgresBackend(): Repositories {
  const url = postgres.createDatabase('envparity_repos');
  const open = (): Repositories => {
    const db = new PgBridge({ connectionString: url });
    cleanups.push(() => db.close());
    migratePostgres(db);
    const { apiTokens, ...rest } = openPgRepositories(db);
    return { ...rest, tokens: apiTokens, reopen: open };
  };
  return open();
}

const BACKENDS: [string, () => Repositories][] = [['sqlite', sqliteBackend]];
// Without PostgreSQL installed the second backend is skipped, except in CI, where that fails.
if (postgres.available) BACKENDS.push(['postgres', postgresBackend]);
const T0 = Date.UTC(2026, 0, 1);

describe.each(BACKENDS)('repositories (%s)', (name, backend) => {
  it('declared classes: the first declaration of a glob is kept, listed oldest first, durable', () => {
    const repos = backend();
    expect(repos.declaredClasses.list()).toEqual([]);
    const sizes = { glob: 'probe.sizes.**', class: 'scale' as const, hostId: 'web-1', at: T0 + 5 };
    const os = { glob: 'probe.os.**', class: 'volatile' as const, hostId: 'web-2', at: T0 };
    expect(repos.declaredClasses.add(sizes)).toBe(true);
    expect(repos.declaredClasses.add(os)).toBe(true);
    expect(repos.declaredClasses.add({ ...sizes, class: 'behavior', hostId: 'web-3', at: T0 + 9 })).toBe(false);
    expect(repos.declaredClasses.list()).toEqual([os, sizes]);
    expect(repos.reopen().declaredClasses.list()).toEqual([os, sizes]);
  });

  it('API tokens: created, found by hash while not revoked, listed with revocations, durable', () => {
    const repos = backend();
    const a = repos.tokens.create({ name: 'ci', scope: 'verify', tokenHash: 'hash-a', at: T0 });
    const b = repos.tokens.create({ name: 'dash', scope: 'read', tokenHash: 'hash-b', at: T0 + 1 });
    expect(repos.tokens.find('hash-a')).toEqual(a);
    expect(repos.tokens.find('nope')).toBeUndefined();
    expect(repos.tokens.revoke(a.id, T0 + 5)).toBe(true);
    expect(repos.tokens.revoke(a.id, T0 + 6)).toBe(false);
    expect(repos.tokens.revoke('unknown', T0 + 6)).toBe(false);
    expect(repos.tokens.find('hash-a')).toBeUndefined();
    const again = repos.reopen();
    expect(again.tokens.list()).toEqual([{ ...a, revokedAt: T0 + 5 }, b]);
  });

  it('drift events: opened, updated and resolved in one write, queried newest first by status, environment, kind and host', () => {
    const repos = backend();
    const [outlier, pair] = repos.driftEvents.write({
      open: [
        {
          key: 'o:prod:a',
          kind: 'outlier',
          environment: 'prod',
          hostId: 'web-1',
          hosts: ['web-1', 'web-2'],
          path: 'os.release',
          expected: '12',
          actual: null,
          openedAt: T0,
        },
        {
          key: PAIR_KEY,
          kind: 'environment',
          environment: 'staging',
          otherEnvironment: 'prod',
          path: 'config.env.X',
          expected: 'a',
          actual: 'b',
          openedAt: T0 + 1,
        },
      ],
      resolve: [],
    });
    expect(outlier).toMatchObject({ status: 'open', resolvedAt: null, actual: null, hosts: ['web-1', 'web-2'] });
    expect(pair?.otherEnvironment).toBe('prod');
    expect(pair?.key).toBe(PAIR_KEY);
    expect(repos.driftEvents.list({ kind: 'environment' }).map((event) => event.key)).toEqual([pair?.key]);
    repos.driftEvents.write({
      open: [],
      update: [
        {
          id: (outlier as { id: string }).id,
          expected: '13',
          actual: '12',
          hosts: ['web-2'],
          hostCount: 1,
          emergency: true,
          upstream: 'staging',
        },
      ],
      resolve: [
        {
          id: (pair as { id: string }).id,
          at: T0 + 10,
          resolution: 'justified',
          exception: { id: 'x1', reason: 'why' },
        },
      ],
    });
    const again = repos.reopen();
    expect(again.driftEvents.list().map((event) => event.key)).toEqual([PAIR_KEY, 'o:prod:a']);
    expect(again.driftEvents.list({ status: 'open' })).toEqual([
      expect.objectContaining({
        key: 'o:prod:a',
        expected: '13',
        actual: '12',
        hosts: ['web-2'],
        emergency: true,
        upstream: 'staging',
      }),
    ]);
    expect(again.driftEvents.list({ status: 'resolved' })[0]).toMatchObject({
      resolvedAt: T0 + 10,
      resolution: 'justified',
      exception: { id: 'x1', reason: 'why' },
    });
    expect(again.driftEvents.list({ environment: 'prod' })).toHaveLength(2); // either side of a pair
    expect(again.driftEvents.list({ kind: 'outlier', hostId: 'web-2' })).toHaveLength(1); // a member of the group
    expect(again.driftEvents.list({ limit: 1 })).toHaveLength(1);
  });

  it('drift events: at most one open event per key; a failed write changes nothing', () => {
    const repos = backend();
    const event = { key: 'k', kind: 'lost' as const, environment: 'prod', hostId: 'web-1', path: 'host', openedAt: T0 };
    repos.driftEvents.write({ open: [event], resolve: [] });
    expect(() => repos.driftEvents.write({ open: [{ ...event, key: 'other' }, event], resolve: [] })).toThrow();
    expect(repos.driftEvents.list().map((e) => e.key)).toEqual(['k']);
  });

  it('exceptions: API ones created and deleted, file ones replaced whole keeping unchanged ones, expiry noted once', () => {
    const repos = backend();
    const api = repos.exceptions.create({
      path: 'config.env.X',
      environments: ['staging', 'prod'],
      reason: 'planned',
      expiresAt: null,
      createdAt: T0,
      createdBy: 'ops',
    });
    const fileRule = {
      id: 'f1',
      path: 'os.release',
      environments: ['dev'],
      reason: 'lab',
      expiresAt: T0 + 100,
      // Later than the API one: the list is by creation (ties go by id, random for API ones).
      createdAt: T0 + 1,
    };
    expect(repos.exceptions.replaceFileExceptions('file:/etc/x.yaml', [fileRule])).toEqual(['dev']);
    repos.exceptions.markExpired('f1', T0 + 200);
    repos.exceptions.markExpired('f1', T0 + 300);
    // Reloading the same file: nothing touched, the expiry stays.
    expect(repos.exceptions.replaceFileExceptions('file:/etc/x.yaml', [{ ...fileRule, createdAt: T0 + 50 }])).toEqual(
      [],
    );
    const again = repos.reopen();
    expect(again.exceptions.list()).toEqual([api, { ...fileRule, expiredAt: T0 + 200, source: 'file:/etc/x.yaml' }]);
    // An API id cannot be taken by the file; a removed file rule goes, naming its environments.
    expect(() => again.exceptions.replaceFileExceptions('file:/etc/x.yaml', [{ ...fileRule, id: api.id }])).toThrow(
      /already used/,
    );
    expect(again.exceptions.replaceFileExceptions('file:/etc/x.yaml', [])).toEqual(['dev']);
    expect(again.exceptions.delete(api.id)).toBe(true);
    expect(again.exceptions.delete(api.id)).toBe(false);
    expect(again.reopen().exceptions.list()).toEqual([]);
  });

  it('host facts: enrolled, re-enrolled, reported, touched, retired; loaded back with categories, blob references and environments', () => {
    const repos = backend();
    const enrollment = { environment: 'prod', labels: { role: 'web' }, agentVersion: '1.0.0', at: T0 };
    repos.hostFacts.insertHost({ id: 'web-1', tokenHash: 'tok-1', ...enrollment });
    repos.hostFacts.insertHost({ id: 'web-2', tokenHash: 'tok-2', ...enrollment });
    repos.hostFacts.addEnvironment('prod', T0);
    repos.hostFacts.addEnvironment('prod', T0 + 1);
    const os = { 'os.family': 'debian', 'os.release': '12' };
    repos.hostFacts.insertBlob('h-os', os);
    repos.hostFacts.insertBlob('h-os', { 'os.family': 'other' }); // the first write of a hash stays
    repos.hostFacts.insertBlob('h-lib', { 'library.openssl': '3.0.12' });
    repos.hostFacts.insertBlob('h-unheld', { 'config.env.A': 'x' });
    for (const id of ['web-1', 'web-2']) repos.hostFacts.setCategory(id, 'os', 'h-os');
    repos.hostFacts.setCategory('web-1', 'library', 'h-lib');
    repos.hostFacts.insertInitialCategory({
      hostId: 'web-1',
      seq: 1,
      at: T0,
      environment: 'prod',
      category: 'library',
      hash: 'h-lib',
    });
    repos.hostFacts.updateReportState('web-1', 3, T0 + 30, { collectors: 5 });
    repos.hostFacts.updateFingerprints('web-1', 'fp', { os: 'fp-os' });
    repos.hostFacts.touch('web-1', T0 + 100);
    repos.hostFacts.touch('web-1', T0 + 50); // never backwards
    repos.hostFacts.replaceToken('web-2', 'tok-2b');
    repos.hostFacts.updateHostInfo('web-2', { environment: 'staging', labels: {}, agentVersion: '1.1.0' });
    expect(repos.hostFacts.retire('web-2', T0 + 200, 'ops')).toBe(true);
    expect(repos.hostFacts.retire('web-2', T0 + 300, 'ops')).toBe(false);
    expect(repos.hostFacts.unretire('web-2', 'presence')).toBe(false); // retired by someone else
    // web-1 re-enrolls: new token, seq numbering restarts, facts kept.
    repos.hostFacts.reenrollHost({ id: 'web-1', tokenHash: 'tok-1b', ...enrollment, at: T0 + 400 });
    repos.hostFacts.deleteCategory('web-2', 'os');

    const stored = repos.reopen().hostFacts.load();
    const byId = new Map(stored.hosts.map((host) => [host.id, host]));
    expect(byId.get('web-1')).toMatchObject({
      environment: 'prod',
      labels: { role: 'web' },
      tokenHash: 'tok-1b',
      enrolledAt: T0 + 400,
      lastSeq: 0,
      lastSeen: T0 + 400,
      fingerprint: 'fp',
      fingerprints: { os: 'fp-os' },
      meta: { collectors: 5 },
      hasInitialState: true,
      retiredAt: null,
    });
    expect([...(byId.get('web-1')?.categories ?? [])]).toEqual([
      ['library', 'h-lib'],
      ['os', 'h-os'],
    ]);
    expect(byId.get('web-2')).toMatchObject({
      environment: 'staging',
      agentVersion: '1.1.0',
      tokenHash: 'tok-2b',
      retiredAt: T0 + 200,
      retiredBy: 'ops',
      hasInitialState: false,
    });
    expect(byId.get('web-2')?.categories.size).toBe(0);
    expect(stored.blobs.sort((a, b) => a.hash.localeCompare(b.hash))).toEqual([
      { hash: 'h-lib', facts: { 'library.openssl': '3.0.12' }, refs: 1 },
      { hash: 'h-os', facts: os, refs: 1 },
    ]);
    expect(stored.unheldBlobs).toEqual(['h-unheld']);
    expect(stored.environments).toEqual(['prod']);
  });

  it('host facts: an unheld blob is deleted unless an initial state points at it; initial blobs by environment and category', () => {
    const repos = backend();
    repos.hostFacts.insertHost({
      id: 'a',
      tokenHash: 't',
      environment: 'prod',
      labels: {},
      agentVersion: null,
      at: T0,
    });
    repos.hostFacts.insertBlob('first', { 'library.x': '1' });
    repos.hostFacts.insertBlob('later', { 'library.x': '2' });
    repos.hostFacts.insertInitialCategory({
      hostId: 'a',
      seq: 1,
      at: T0,
      environment: 'prod',
      category: 'library',
      hash: 'first',
    });
    repos.hostFacts.deleteUnusedBlob('first');
    repos.hostFacts.deleteUnusedBlob('later');
    // At once on SQLite; on PostgreSQL at the collection, once nothing points at it.
    repos.hostFacts.collectUnusedBlobs(0);
    expect(repos.hostFacts.blobFacts('first')).toEqual({ 'library.x': '1' });
    expect(repos.hostFacts.blobFacts('later')).toBeUndefined();
    if (name === 'postgres') {
      // Let go of by one aggregator while another's host points at it: the collection keeps it.
      repos.hostFacts.insertBlob('held', { 'library.x': '3' });
      repos.hostFacts.setCategory('a', 'library', 'held');
      repos.hostFacts.deleteUnusedBlob('held');
      expect(repos.hostFacts.collectUnusedBlobs(0)).toBe(0);
      expect(repos.hostFacts.blobFacts('held')).toEqual({ 'library.x': '3' });
    }
    expect(repos.hostFacts.initialBlobHashes('prod', 'library')).toEqual(['first']);
    expect(repos.hostFacts.initialBlobHashes('prod', 'os')).toEqual([]);
    expect(repos.hostFacts.initialBlobHashes('staging', 'library')).toEqual([]);
    expect(() => repos.hostFacts.setCategory('unknown-host', 'os', 'first')).toThrow();
  });

  it('change history: recorded with absent and null values apart, listed oldest first from a time, flagged, searched by value', () => {
    const repos = backend();
    repos.hostFacts.insertHost({
      id: 'a',
      tokenHash: 't',
      environment: 'staging',
      labels: {},
      agentVersion: null,
      at: T0,
    });
    repos.changes.record(
      { hostId: 'a', seq: 2, at: T0 + 20, path: 'library.openssl', from: '3.0.12', to: '3.0.13' },
      'staging',
    );
    repos.changes.record({ hostId: 'a', seq: 3, at: T0 + 10, path: 'config.env.NEW', to: null }, 'staging');
    repos.changes.record({ hostId: 'a', seq: 4, at: T0 + 30, path: 'config.env.OLD', from: ['x', 1] }, 'prod');
    repos.changes.markEmergency('a', 2, 'library.openssl');
    const again = repos.reopen();
    expect(again.changes.list('a', { limit: 10 })).toEqual([
      { hostId: 'a', seq: 3, at: T0 + 10, path: 'config.env.NEW', to: null },
      { hostId: 'a', seq: 2, at: T0 + 20, path: 'library.openssl', from: '3.0.12', to: '3.0.13', emergency: true },
      { hostId: 'a', seq: 4, at: T0 + 30, path: 'config.env.OLD', from: ['x', 1] },
    ]);
    expect(again.changes.list('a', { since: T0 + 20, limit: 1 }).map((c) => c.seq)).toEqual([2]);
    expect(again.changes.list('b', { limit: 10 })).toEqual([]);
    // Stamped with the environment the host was in when it changed.
    expect(again.changes.changedTo('staging', 'library.openssl', '3.0.13')).toBe(true);
    expect(again.changes.changedTo('prod', 'library.openssl', '3.0.13')).toBe(false);
    expect(again.changes.changedTo('staging', 'library.openssl', '3.0.12')).toBe(false); // a from value is not a to value
    expect(again.changes.changedTo('staging', 'config.env.NEW', null)).toBe(true);
  });

  it('change history: listed newest first up to a time, ties newest recorded first, with an offset', () => {
    const repos = backend();
    repos.hostFacts.insertHost({
      id: 'a',
      tokenHash: 't',
      environment: 'staging',
      labels: {},
      agentVersion: null,
      at: T0,
    });
    const times = [T0 + 10, T0 + 20, T0 + 20, T0 + 20, T0 + 30];
    for (const [i, at] of times.entries())
      repos.changes.record({ hostId: 'a', seq: i + 1, at, path: `p.${i}`, to: i }, 'staging');
    const seqs = (query: Parameters<typeof repos.changes.list>[1]) => repos.changes.list('a', query).map((c) => c.seq);
    expect(seqs({ order: 'newest', limit: 10 })).toEqual([5, 4, 3, 2, 1]);
    expect(seqs({ order: 'newest', until: T0 + 20, limit: 2 })).toEqual([4, 3]);
    expect(seqs({ order: 'newest', until: T0 + 20, offset: 2, limit: 2 })).toEqual([2, 1]);
    expect(seqs({ until: T0 + 20, since: T0 + 20, limit: 10 })).toEqual([2, 3, 4]);
    expect(seqs({ offset: 4, limit: 10 })).toEqual([5]);
  });

  it('change history by environment: the environment the host was in when it changed, in a window, both orders', () => {
    const repos = backend();
    for (const id of ['a', 'b'])
      repos.hostFacts.insertHost({
        id,
        tokenHash: `t-${id}`,
        environment: 'staging',
        labels: {},
        agentVersion: null,
        at: T0,
      });
    repos.changes.record({ hostId: 'a', seq: 1, at: T0 + 10, path: 'library.x', from: '1', to: '2' }, 'staging');
    repos.changes.record({ hostId: 'b', seq: 1, at: T0 + 20, path: 'library.x', from: '1', to: '2' }, 'staging');
    repos.changes.record({ hostId: 'a', seq: 2, at: T0 + 30, path: 'library.y', to: true }, 'production');
    repos.changes.record({ hostId: 'b', seq: 2, at: T0 + 40, path: 'library.x', from: '2', to: '3' }, 'staging');
    const again = repos.reopen();
    const keys = (environment: string, query: Parameters<ChangeHistoryRepository['listByEnvironment']>[1]) =>
      again.changes.listByEnvironment(environment, query).map((c) => `${c.hostId}:${c.seq}`);
    expect(keys('staging', { limit: 10 })).toEqual(['a:1', 'b:1', 'b:2']);
    expect(keys('staging', { order: 'newest', limit: 2 })).toEqual(['b:2', 'b:1']);
    expect(keys('staging', { since: T0 + 15, until: T0 + 40, limit: 10 })).toEqual(['b:1', 'b:2']);
    expect(keys('staging', { order: 'newest', offset: 1, limit: 10 })).toEqual(['b:1', 'a:1']);
    expect(keys('production', { limit: 10 })).toEqual(['a:2']);
    expect(keys('dev', { limit: 10 })).toEqual([]);
    expect(again.changes.listByEnvironment('staging', { limit: 1 })[0]).toEqual({
      hostId: 'a',
      seq: 1,
      at: T0 + 10,
      path: 'library.x',
      from: '1',
      to: '2',
    });
  });

  it('change history by environment of some paths: only those, in the window and order, none for an empty list', () => {
    const repos = backend();
    repos.hostFacts.insertHost({
      id: 'a',
      tokenHash: 't',
      environment: 'staging',
      labels: {},
      agentVersion: null,
      at: T0,
    });
    const paths = ['library.x', 'library.y', 'config.z', 'library.x', 'config.z'];
    for (const [i, path] of paths.entries())
      repos.changes.record(
        { hostId: 'a', seq: i + 1, at: T0 + 10 * i, path, to: i },
        i === 3 ? 'production' : 'staging',
      );
    const seqs = (query: Parameters<ChangeHistoryRepository['listByEnvironment']>[1]) =>
      repos.changes.listByEnvironment('staging', query).map((c) => c.seq);
    expect(seqs({ paths: ['library.x', 'config.z'], limit: 10 })).toEqual([1, 3, 5]);
    expect(seqs({ paths: ['config.z', 'library.x'], order: 'newest', limit: 2 })).toEqual([5, 3]);
    expect(seqs({ paths: ['library.x', 'config.z'], since: T0 + 10, until: T0 + 30, limit: 10 })).toEqual([3]);
    expect(seqs({ paths: ['library.x', 'config.z'], order: 'newest', offset: 1, limit: 10 })).toEqual([3, 1]);
    expect(seqs({ paths: ['nothing.here'], limit: 10 })).toEqual([]);
    expect(seqs({ paths: [], limit: 10 })).toEqual([]);
    // A path with quotes or a comma is one path, not a list.
    repos.changes.record({ hostId: 'a', seq: 6, at: T0 + 60, path: 'config.file."a,b".k', to: 1 }, 'staging');
    expect(seqs({ paths: ['config.file."a,b".k'], limit: 10 })).toEqual([6]);
  });

  it('initial state: every category merged in the order recorded, with the first row time; none for a host without one', () => {
    const repos = backend();
    repos.hostFacts.insertHost({
      id: 'a',
      tokenHash: 't',
      environment: 'staging',
      labels: {},
      agentVersion: null,
      at: T0,
    });
    repos.hostFacts.insertBlob('h-os', { 'os.family': 'debian' });
    repos.hostFacts.insertBlob('h-lib', { 'library.openssl': '3.0.12' });
    for (const [category, hash, at] of [
      ['os', 'h-os', T0 + 5],
      ['library', 'h-lib', T0 + 6],
    ] as const)
      repos.hostFacts.insertInitialCategory({ hostId: 'a', seq: 1, at, environment: 'staging', category, hash });
    const again = repos.reopen();
    expect(again.hostFacts.initialState('a')).toEqual({
      at: T0 + 5,
      seq: 1,
      facts: { 'os.family': 'debian', 'library.openssl': '3.0.12' },
    });
    expect(again.hostFacts.initialState('nobody')).toBeUndefined();
  });

  it('recorded audits: stored whole with author and time, listed newest first without the report, paged, durable', async () => {
    const repos = backend();
    const first = await repos.audits.record({
      at: T0,
      author: 'alice',
      environments: ['staging', 'production'],
      summary: { drift: 3 },
      report: { pairs: [{ from: 'staging', to: 'production', differences: [{ path: 'a', status: 'drift' }] }] },
    });
    const second = await repos.audits.record({
      at: T0 + 1,
      author: 'bob',
      environments: ['dev'],
      summary: {},
      report: {},
    });
    expect(second.id).toBeGreaterThan(first.id);
    const again = repos.reopen();
    expect(await again.audits.get(first.id)).toEqual(first);
    expect(await again.audits.get(second.id + 100)).toBeUndefined();
    const listed = await again.audits.list({ limit: 10 });
    expect(listed.map((a) => a.author)).toEqual(['bob', 'alice']);
    expect(listed[1]).toEqual({
      id: first.id,
      at: T0,
      author: 'alice',
      environments: ['staging', 'production'],
      summary: { drift: 3 },
    });
    expect((await again.audits.list({ limit: 10, before: second.id })).map((a) => a.id)).toEqual([first.id]);
    expect(await again.audits.list({ limit: 1 })).toHaveLength(1);
  });
});
