import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type PostgresDatabases,
  postgresUnavailable,
  startPostgresDatabases,
} from '../../../../test/helpers/postgres-databases.js';
import { PgBridge, PgQueryError } from './pg-bridge.js';
import { migratePostgres, PG_MIGRATIONS, pgSchemaVersion } from './pg-migrations.js';

const unavailable = postgresUnavailable();

describe.skipIf(unavailable !== undefined)(`PgBridge on a real PostgreSQL ${unavailable ?? ''}`, () => {
  let databases: PostgresDatabases;
  const open: PgBridge[] = [];
  beforeAll(async () => {
    databases = await startPostgresDatabases();
  });
  afterAll(async () => {
    for (const bridge of open) bridge.close();
    await databases?.stop();
  });
  async function bridge(): Promise<PgBridge> {
    const created = new PgBridge({ connectionString: await databases.create() });
    open.push(created);
    return created;
  }

  it('answers queries synchronously, int8 as numbers, errors with their SQLSTATE', async () => {
    const db = await bridge();
    expect(db.get<{ n: number; t: string }>('SELECT $1::bigint AS n, $2::text AS t', [2 ** 52, 'x'])).toEqual({
      n: 2 ** 52,
      t: 'x',
    });
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
    expect(db.run('INSERT INTO t VALUES ($1, $2), ($3, $4)', [1, 'a', 2, 'b'])).toBe(2);
    const error = (() => {
      try {
        db.run('INSERT INTO t VALUES ($1, $2)', [1, 'again']);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(PgQueryError);
    expect((error as PgQueryError).sqlState).toBe('23505');
    expect((error as PgQueryError).message).toMatch(
      /^PostgreSQL at 127\.0\.0\.1:\d+\/envparity_test_\d+: duplicate key/,
    );
  });

  it('commits a transaction, rolls back a failed one, and a nested failure only to its savepoint', async () => {
    const db = await bridge();
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
    db.transaction(() => {
      db.run('INSERT INTO t VALUES (1)');
      expect(() =>
        db.transaction(() => {
          db.run('INSERT INTO t VALUES (2)');
          db.run('INSERT INTO t VALUES (1)');
        }),
      ).toThrow(/duplicate key/);
      db.run('INSERT INTO t VALUES (3)');
    });
    expect(() =>
      db.transaction(() => {
        db.run('INSERT INTO t VALUES (4)');
        throw new Error('changed my mind');
      }),
    ).toThrow('changed my mind');
    expect(db.query<{ id: number }>('SELECT id FROM t ORDER BY id').rows.map((r) => r.id)).toEqual([1, 3]);
  });

  it('sends deferred writes in order before the next read, and drops them with a rolled-back transaction', async () => {
    const db = await bridge();
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
    for (let id = 1; id <= 100; id++) db.defer('INSERT INTO t VALUES ($1)', [id]);
    expect(db.get<{ n: number }>('SELECT count(*)::bigint AS n FROM t')?.n).toBe(100);
    expect(() =>
      db.transaction(() => {
        db.defer('INSERT INTO t VALUES (101)');
        throw new Error('no');
      }),
    ).toThrow('no');
    expect(db.get<{ n: number }>('SELECT count(*)::bigint AS n FROM t')?.n).toBe(100);
  });

  it('a savepoint of deferred writes costs one round trip, and a failed one rolls back alone', async () => {
    const db = await bridge();
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
    const before = db.roundTrips;
    db.transaction(() => {
      db.defer('INSERT INTO t VALUES (1)');
      // Savepoint and writes in one hop.
      const hops = db.roundTrips;
      db.transaction(() => {
        db.defer('INSERT INTO t VALUES (2)');
        db.defer('INSERT INTO t VALUES (3)');
      });
      expect(db.roundTrips - hops).toBe(1);
      // A deferred write that fails on the server: only its savepoint is undone.
      expect(() =>
        db.transaction(() => {
          db.defer('INSERT INTO t VALUES (4)');
          db.defer('INSERT INTO t VALUES (1)');
        }),
      ).toThrow(/duplicate key/);
      // A failure before anything was sent: its writes are forgotten, the earlier ones kept.
      expect(() =>
        db.transaction(() => {
          db.defer('INSERT INTO t VALUES (5)');
          throw new Error('no');
        }),
      ).toThrow('no');
      db.defer('INSERT INTO t VALUES (6)');
    });
    expect(db.query<{ id: number }>('SELECT id FROM t ORDER BY id').rows.map((r) => r.id)).toEqual([1, 2, 3, 6]);
    // BEGIN, the two savepoints' hops, one rollback, COMMIT's flush and COMMIT, the read.
    expect(db.roundTrips - before).toBeLessThanOrEqual(8);
  });

  it('migrates once when several aggregators start together, and refuses a newer schema', async () => {
    const url = await databases.create();
    const bridges = [0, 1, 2].map(() => new PgBridge({ connectionString: url }));
    open.push(...bridges);
    // Sequential calls on one thread, but each bridge has its own connection and the lock serialises them.
    const results = bridges.map((db) => migratePostgres(db));
    expect(results.map((r) => r.from)).toEqual([0, PG_MIGRATIONS.length, PG_MIGRATIONS.length]);
    const [first] = bridges as [PgBridge];
    expect(pgSchemaVersion(first)).toBe(PG_MIGRATIONS.length);
    first.run('INSERT INTO envparity_schema VALUES ($1, 0)', [PG_MIGRATIONS.length + 1]);
    const newer = PG_MIGRATIONS.length + 1;
    expect(() => migratePostgres(first)).toThrow(
      new RegExp(`schema version ${newer}, newer than this aggregator's ${PG_MIGRATIONS.length}; upgrade`),
    );
  });

  it('never prints the password of the connection string', async () => {
    const db = new PgBridge({
      connectionString: `postgres://nobody:s3cret-pw@127.0.0.1:${databases.server.port}/none`,
      timeoutMs: 5_000,
    });
    open.push(db);
    let message = '';
    try {
      db.query('SELECT 1');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^PostgreSQL at 127\.0\.0\.1:\d+\/none: /);
    expect(message).not.toContain('s3cret-pw');
  });
});
