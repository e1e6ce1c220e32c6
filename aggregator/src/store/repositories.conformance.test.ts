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
import { type ApiTokenRepository, SqliteApiTokenRepository } from './api-token-repository.js';
import { type DriftEventRepository, SqliteDriftEventRepository } from './drift-event-repository.js';
import { type ExceptionRepository, SqliteExceptionRepository } from './exception-repository.js';
import { migrate } from './migrations.js';

interface Repositories {
  tokens: ApiTokenRepository;
  driftEvents: DriftEventRepository;
  exceptions: ExceptionRepository;
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
      exceptions: new SqliteExceptionRepository(db),
      reopen: open,
    };
  };
  return open();
}

const BACKENDS: [string, () => Repositories][] = [['sqlite', sqliteBackend]];
const T0 = Date.UTC(2026, 0, 1);

describe.each(BACKENDS)('repositories (%s)', (_name, backend) => {
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
          key: 'e:staging:prod:x',
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
    expect(again.driftEvents.list().map((event) => event.key)).toEqual(['e:staging:prod:x', 'o:prod:a']);
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
});
