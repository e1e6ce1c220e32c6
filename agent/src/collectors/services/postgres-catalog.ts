/**
 * What the postgres probe reads once connected, each part from the catalogs only (never a scan of a
 * user table): the server version, the configured settings as `SHOW` prints them, the installed
 * extensions, and the shape of the configured tables (estimated rows, columns with their types).
 */
import { type FactMap, formatPath } from '@envparity/shared';
import type { ClientBase } from 'pg';

export interface ServerVersion {
  version: string;
  versionNum: number;
}

export async function readVersion(client: ClientBase): Promise<ServerVersion> {
  const { rows } = await client.query<{ version: string; version_num: string }>(
    `SELECT current_setting('server_version') AS version, current_setting('server_version_num') AS version_num`,
  );
  const row = rows[0];
  if (!row) throw new Error('the server returned no version');
  return { version: row.version, versionNum: Number(row.version_num) };
}

/**
 * Bounds every later statement on the server too (the client's query_timeout only stops waiting).
 * Set after the settings are read, so `settings.statement_timeout` is the application's, not ours.
 */
export async function limitStatements(client: ClientBase, statementTimeoutMs: number): Promise<void> {
  await client.query(`SELECT set_config('statement_timeout', $1, false)`, [String(statementTimeoutMs)]);
}

/**
 * `settings.<name>` as `current_setting()` prints it ('4MB', 'UTC'), the session's value (so
 * what the application gets, ALTER ROLE/DATABASE SET included). Names match case-insensitively
 * (`timezone` is `TimeZone`); one the server does not know, or hides from this user, is null. `lc_collate`/`lc_ctype` stopped being settings in
 * PostgreSQL 16: they come from the database's own collation then, so the fact means the same.
 */
export async function readSettings(client: ClientBase, names: readonly string[]): Promise<FactMap> {
  if (names.length === 0) return {};
  const { rows } = await client.query<{ name: string; value: string | null }>(
    `SELECT n.name,
            CASE WHEN s.name IS NOT NULL THEN current_setting(s.name)
                 WHEN n.name = 'lc_collate' THEN d.datcollate::text
                 WHEN n.name = 'lc_ctype' THEN d.datctype::text END AS value
       FROM unnest($1::text[]) AS n(name)
       LEFT JOIN pg_settings s ON lower(s.name) = n.name
      CROSS JOIN (SELECT datcollate, datctype FROM pg_database WHERE datname = current_database()) d`,
    [names],
  );
  const facts: FactMap = {};
  for (const row of rows) facts[formatPath(['settings', row.name])] = row.value;
  return facts;
}

/** `extensions.<extname>` = the installed version (plpgsql is always there). */
export async function readExtensions(client: ClientBase): Promise<FactMap> {
  const { rows } = await client.query<{ name: string; version: string }>(
    'SELECT extname AS name, extversion AS version FROM pg_extension ORDER BY extname',
  );
  const facts: FactMap = {};
  for (const row of rows) facts[formatPath(['extensions', row.name])] = row.version;
  return facts;
}

/**
 * Data shape of each configured table, keyed by the name as configured (`users`, `app.orders`,
 * resolved through the search_path as SQL would): `rows` is the planner's estimate
 * (`pg_class.reltuples`, kept by ANALYZE and autovacuum), null while the table was never analyzed
 * (reltuples -1) rather than a made-up 0; `columns.<name>` is `format_type()` plus ' not null'. A
 * table that does not exist is `missing: true`.
 */
export async function readTables(client: ClientBase, tables: readonly string[]): Promise<FactMap> {
  if (tables.length === 0) return {};
  const { rows } = await client.query<{
    name: string;
    found: boolean;
    reltuples: number | null;
    columns: Array<{ name: string; type: string; not_null: boolean }> | null;
  }>(
    `SELECT t.name, c.oid IS NOT NULL AS found, c.reltuples::float8 AS reltuples,
            (SELECT json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod),
                                               'not_null', a.attnotnull) ORDER BY a.attnum)
               FROM pg_attribute a
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns
       FROM unnest($1::text[]) AS t(name)
       LEFT JOIN pg_class c ON c.oid = to_regclass(t.name)`,
    [tables],
  );
  const facts: FactMap = {};
  for (const row of rows) {
    const at = (...rest: string[]) => formatPath(['tables', row.name, ...rest]);
    if (!row.found) {
      facts[at('missing')] = true;
      continue;
    }
    facts[at('rows')] = row.reltuples === null || row.reltuples < 0 ? null : Math.round(row.reltuples);
    for (const column of row.columns ?? []) {
      facts[at('columns', column.name)] = column.not_null ? `${column.type} not null` : column.type;
    }
  }
  return facts;
}
