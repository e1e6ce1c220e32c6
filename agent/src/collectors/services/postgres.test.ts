import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_POSTGRES_SETTINGS,
  type PostgresServiceConfig,
  parseAgentConfig,
  postgresServiceSchema,
} from '@envparity/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresServer, postgresSupport, startPostgres } from '../../../../test/helpers/postgres-server.js';
import { execCommand } from '../../exec.js';
import { createSecretHasher } from '../../secrets.js';
import { serviceCollector } from '../service.js';
import type { CollectorContext } from '../types.js';
import { observeService, type TimedObservation } from './observe.js';

/** Distinctive, so that finding it anywhere in a fact or an error can only mean a leak. */
const PASSWORD = 'pw-Zq7!leak-canary-3141';
const PASSWORD_ENV = 'ENVPARITY_TEST_PG_PASSWORD';
const USERS_ROWS = 1000;

const support = postgresSupport();
let server: PostgresServer;
let dir: string;

function spec(overrides: Partial<Record<keyof PostgresServiceConfig, unknown>> = {}): PostgresServiceConfig {
  return postgresServiceSchema.parse({
    name: 'db',
    type: 'postgres',
    host: server.host,
    port: server.port,
    database: 'app',
    user: 'app',
    passwordEnv: PASSWORD_ENV,
    ...overrides,
  });
}

/** observeService with the password in its env; every observation is searched for the password. */
async function observe(service: PostgresServiceConfig): Promise<TimedObservation> {
  const observation = await observeService(service, { env: { [PASSWORD_ENV]: PASSWORD } });
  expect(JSON.stringify(observation)).not.toContain(PASSWORD);
  return observation;
}

/** What the server itself says, through the superuser's own connection to the same database. */
async function show(setting: string): Promise<string> {
  // lc_collate is no setting from PostgreSQL 16 on (no SHOW): the database's collation is the reference.
  if (setting === 'lc_collate') {
    const [database] = await server.query<{ collate: string }>(
      'SELECT datcollate::text AS collate FROM pg_database WHERE datname = current_database()',
      [],
      { database: 'app' },
    );
    return database?.collate as string;
  }
  const [row] = await server.query<Record<string, string>>(`SHOW ${setting}`, [], { database: 'app' });
  return Object.values(row ?? {})[0] as string;
}

const appQuery = (sql: string) => server.query(sql, [], { database: 'app' });

beforeAll(async () => {
  if (!support.ok) return;
  dir = await mkdtemp(join(tmpdir(), 'envparity-pg-probe-'));
  server = await startPostgres({
    settings: { work_mem: '4MB', shared_buffers: '32MB' },
    roles: [{ name: 'app', password: PASSWORD }],
    databases: [{ name: 'app', owner: 'app' }],
  });
  await appQuery('CREATE EXTENSION citext; CREATE EXTENSION pgcrypto');
  await appQuery(`
    CREATE TABLE users (id serial PRIMARY KEY, email varchar(255) NOT NULL, name text);
    INSERT INTO users (email, name) SELECT 'u' || i || '@example.test', 'user ' || i FROM generate_series(1, ${USERS_ROWS}) i;
    CREATE SCHEMA billing;
    CREATE TABLE billing.invoices (id bigint NOT NULL, total numeric(12,2));
    INSERT INTO billing.invoices SELECT i, i * 1.5 FROM generate_series(1, 40) i;
    CREATE TABLE never_analyzed (id int);
    ANALYZE users; ANALYZE billing.invoices;
    GRANT USAGE ON SCHEMA billing TO app;`);
  // One table of each migration tool's shape (plus a generic one, an empty one and an unknown one).
  await appQuery(`
    CREATE TABLE schema_migrations (version varchar PRIMARY KEY);
    INSERT INTO schema_migrations VALUES ('20240101120000'), ('20240315090000'), ('20231201000000');
    CREATE TABLE knex_migrations (id serial PRIMARY KEY, name varchar(255), batch int, migration_time timestamptz);
    INSERT INTO knex_migrations (name, batch) VALUES ('20240101_init.js', 1), ('20240202_users.js', 1), ('20240303_orders.js', 2);
    CREATE TABLE flyway_schema_history (installed_rank int PRIMARY KEY, version varchar(50), description varchar(200),
      type varchar(20), script varchar(1000), checksum int, installed_by varchar(100), installed_on timestamp DEFAULT now(),
      execution_time int, success boolean NOT NULL);
    INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, installed_by, execution_time, success)
      VALUES (1, '1', 'init', 'SQL', 'V1__init.sql', 'app', 5, true), (2, '1.1', 'users', 'SQL', 'V1_1__users.sql', 'app', 5, true),
             (3, NULL, 'views', 'SQL', 'R__views.sql', 'app', 5, true), (4, '2', 'broken', 'SQL', 'V2__broken.sql', 'app', 5, false);
    CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);
    INSERT INTO alembic_version VALUES ('ae1027a6acf');
    CREATE SCHEMA ops;
    CREATE TABLE ops.db_version (version int, applied_at timestamptz DEFAULT now());
    INSERT INTO ops.db_version (version) VALUES (7), (42), (9);
    CREATE TABLE odd_migrations (applied text);
    CREATE TABLE empty_migrations (version bigint);
    GRANT USAGE ON SCHEMA ops TO app;
    GRANT SELECT ON ALL TABLES IN SCHEMA public, ops TO app;`);
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!support.ok)(
  `postgres probe against a real server${support.ok ? '' : ` (skipped: ${support.reason})`}`,
  () => {
    it('reports the version and the default settings exactly as the server shows them', async () => {
      const observation = await observe(spec());
      expect(observation.error).toBeUndefined();
      expect(observation.reachable).toBe(true);
      expect(observation.version).toBe(await show('server_version'));
      expect(observation.facts.versionNum).toBe(Number(await show('server_version_num')));
      for (const name of DEFAULT_POSTGRES_SETTINGS) {
        expect(observation.facts[`settings.${name}`], name).toBe(await show(name));
      }
      // The configured postgresql.conf line, not a default.
      expect(observation.facts['settings.work_mem']).toBe('4MB');
      // The probe bounds its own statements, yet reports the application's statement_timeout.
      expect(observation.facts['settings.statement_timeout']).toBe('0');
    });

    it('reports configured settings, custom ones quoted, unknown ones as null', async () => {
      const observation = await observe(
        spec({
          settings: ['timezone', 'datestyle', 'random_page_cost', 'no_such_setting', 'pg_trgm.similarity_threshold'],
        }),
      );
      expect(observation.facts['settings.timezone']).toBe(await show('timezone'));
      expect(observation.facts['settings.datestyle']).toBe(await show('datestyle'));
      expect(observation.facts['settings.random_page_cost']).toBe(await show('random_page_cost'));
      expect(observation.facts['settings.no_such_setting']).toBeNull();
      expect(observation.facts['settings["pg_trgm.similarity_threshold"]']).toBeNull();
      expect(observation.facts).not.toHaveProperty('settings.work_mem');
    });

    it('follows ALTER SYSTEM SET work_mem after a reload', async () => {
      const before = await observe(spec());
      expect(before.facts['settings.work_mem']).toBe('4MB');
      await server.query(`ALTER SYSTEM SET work_mem = '12MB'`);
      await server.reload();
      try {
        const after = await observe(spec());
        expect(after.facts['settings.work_mem']).toBe(await show('work_mem'));
        expect(after.facts['settings.work_mem']).toBe('12MB');
      } finally {
        await server.query('ALTER SYSTEM RESET work_mem');
        await server.reload();
      }
    });

    it('lists the installed extensions with their versions', async () => {
      const observation = await observe(spec());
      const installed = await server.query<{ name: string; version: string }>(
        'SELECT name, installed_version AS version FROM pg_available_extensions WHERE installed_version IS NOT NULL',
        [],
        { database: 'app' },
      );
      const reported = Object.fromEntries(
        Object.entries(observation.facts).filter(([path]) => path.startsWith('extensions.')),
      );
      expect(reported).toEqual(Object.fromEntries(installed.map((row) => [`extensions.${row.name}`, row.version])));
      expect(Object.keys(reported).sort()).toEqual(['extensions.citext', 'extensions.pgcrypto', 'extensions.plpgsql']);
    });

    it('reports the data shape of tables: estimated rows and typed columns; missing ones as missing', async () => {
      const observation = await observe(spec({ tables: ['users', 'billing.invoices', 'never_analyzed', 'ghost'] }));
      expect(observation.error).toBeUndefined();
      const [users] = await appQuery(`SELECT reltuples::float8 AS n FROM pg_class WHERE oid = 'users'::regclass`);
      expect(users?.n).toBe(USERS_ROWS);
      expect(observation.facts['tables.users.rows']).toBe(USERS_ROWS);
      expect(observation.facts['tables.users.columns.id']).toBe('integer not null');
      expect(observation.facts['tables.users.columns.email']).toBe('character varying(255) not null');
      expect(observation.facts['tables.users.columns.name']).toBe('text');
      expect(observation.facts['tables["billing.invoices"].rows']).toBe(40);
      expect(observation.facts['tables["billing.invoices"].columns.id']).toBe('bigint not null');
      expect(observation.facts['tables["billing.invoices"].columns.total']).toBe('numeric(12,2)');
      // Never analyzed: reltuples is -1, reported as unknown rather than 0.
      expect(observation.facts['tables.never_analyzed.rows']).toBeNull();
      expect(observation.facts['tables.ghost.missing']).toBe(true);
      expect(Object.keys(observation.facts).filter((path) => path.startsWith('tables.ghost.'))).toEqual([
        'tables.ghost.missing',
      ]);
    });

    it('sees a column added to a table', async () => {
      await appQuery('CREATE TABLE growing (id int NOT NULL)');
      const before = await observe(spec({ tables: ['growing'] }));
      expect(Object.keys(before.facts).filter((path) => path.includes('.columns.'))).toEqual([
        'tables.growing.columns.id',
      ]);
      await appQuery(`ALTER TABLE growing ADD COLUMN created_at timestamptz NOT NULL DEFAULT now()`);
      const after = await observe(spec({ tables: ['growing'] }));
      expect(after.facts['tables.growing.columns.created_at']).toBe('timestamp with time zone not null');
      expect(after.facts['tables.growing.columns.id']).toBe('integer not null');
    });

    it('reports every migration table shape: its table and the applied version', async () => {
      const expected: Record<string, Record<string, unknown>> = {
        schema_migrations: { 'migration.version': '20240315090000' },
        knex_migrations: { 'migration.version': '20240303_orders.js' },
        // The last successful versioned migration: the failed V2 and the repeatable one do not count.
        flyway_schema_history: { 'migration.version': '1.1' },
        alembic_version: { 'migration.version': 'ae1027a6acf' },
        'ops.db_version': { 'migration.version': '42' },
        empty_migrations: { 'migration.version': null },
        missing_migrations: { 'migration.missing': true },
      };
      for (const [table, facts] of Object.entries(expected)) {
        const observation = await observe(spec({ migrationsTable: table }));
        expect(observation.error, table).toBeUndefined();
        const migration = Object.fromEntries(
          Object.entries(observation.facts).filter(([path]) => path.startsWith('migration.')),
        );
        expect(migration, table).toEqual({ 'migration.table': table, ...facts });
      }
      const odd = await observe(spec({ migrationsTable: 'odd_migrations' }));
      expect(odd.facts['migration.table']).toBe('odd_migrations');
      expect(odd.facts['migration.error']).toMatch(/odd_migrations has none of the columns/);
      expect(odd.facts).not.toHaveProperty('migration.version');
    });

    it('names a migrations table it may not read in error, and still reports the rest', async () => {
      await server.query(
        'CREATE TABLE private_migrations (version int); REVOKE ALL ON private_migrations FROM PUBLIC',
        [],
        {
          database: 'app',
        },
      );
      const observation = await observe(spec({ migrationsTable: 'private_migrations' }));
      expect(observation.reachable).toBe(true);
      expect(observation.error).toMatch(/^migration: permission denied for table private_migrations/);
      expect(observation.facts['migration.table']).toBe('private_migrations');
      expect(observation.facts['settings.work_mem']).toBe('4MB');
    });

    it('connects through the unix socket directory too', async () => {
      const observation = await observe(spec({ host: server.socketDir }));
      expect(observation.error).toBeUndefined();
      expect(observation.reachable).toBe(true);
      expect(observation.version).toBe(await show('server_version'));
    });

    it('reports full paths through the service collector, with the password from a file', async () => {
      const passwordFile = join(dir, 'db-password');
      await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
      const config = parseAgentConfig(
        [
          'watch:',
          '  services:',
          `    - { name: db, type: postgres, host: ${server.host}, port: ${server.port}, database: app, user: app,`,
          `        passwordFile: ${JSON.stringify(passwordFile)}, tables: [users, billing.invoices], migrationsTable: schema_migrations }`,
        ].join('\n'),
      );
      const signal = new AbortController().signal;
      const context: CollectorContext = {
        config,
        secrets: createSecretHasher('test-fleet-key', config.secrets),
        signal,
        exec: (file, args, options = {}) => execCommand(file, args, { signal, ...options }),
      };
      const facts = await serviceCollector.collect(context);
      expect(JSON.stringify(facts)).not.toContain(PASSWORD);
      expect(facts['service.db.type']).toBe('postgres');
      expect(facts['service.db.reachable']).toBe(true);
      expect(facts).not.toHaveProperty('service.db.error');
      expect(facts['service.db.version']).toBe(await show('server_version'));
      expect(facts['service.db.versionNum']).toBe(Number(await show('server_version_num')));
      expect(facts['service.db.settings.work_mem']).toBe(await show('work_mem'));
      expect(facts['service.db.settings.max_connections']).toBe(await show('max_connections'));
      expect(facts['service.db.extensions.citext']).toBeTypeOf('string');
      expect(facts['service.db.tables.users.rows']).toBe(USERS_ROWS);
      expect(facts['service.db.tables["billing.invoices"].columns.total']).toBe('numeric(12,2)');
      expect(facts['service.db.migration.table']).toBe('schema_migrations');
      expect(facts['service.db.migration.version']).toBe('20240315090000');
      expect(facts['service.db.latencyMs']).toBeTypeOf('number');
    });
  },
);
