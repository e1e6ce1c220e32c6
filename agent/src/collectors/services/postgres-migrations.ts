/**
 * The applied schema migration version, read from the migrations table a migration tool keeps. The
 * shape is recognized by the table's columns (not its name, which every tool lets users change):
 * - Flyway `flyway_schema_history` (installed_rank, version, success): the last successful version;
 * - Alembic `alembic_version` (version_num): its value (several heads joined by ',');
 * - Knex `knex_migrations` (id, name, batch): the name of the last one applied;
 * - Rails / golang-migrate `schema_migrations`, or any table with a `version` column: the highest version.
 * Facts: `migration.table`, `migration.version` (text; null when the table is empty),
 * `migration.missing: true` when there is no such table, `migration.error` for a shape it does not know.
 */
import type { FactMap } from '@envparity/shared';
import type { ClientBase } from 'pg';

type Shape = { tool: string; query: (table: string) => string };

/** Tried in order: Flyway's table also has a `version` column. */
const SHAPES: ReadonlyArray<{ columns: readonly string[] } & Shape> = [
  {
    tool: 'flyway',
    columns: ['installed_rank', 'version', 'success'],
    query: (table) =>
      `SELECT version::text AS version FROM ${table} WHERE success AND version IS NOT NULL ORDER BY installed_rank DESC LIMIT 1`,
  },
  {
    tool: 'alembic',
    columns: ['version_num'],
    query: (table) => `SELECT string_agg(version_num::text, ',' ORDER BY version_num) AS version FROM ${table}`,
  },
  {
    tool: 'knex',
    columns: ['id', 'name', 'batch'],
    query: (table) => `SELECT name::text AS version FROM ${table} ORDER BY id DESC LIMIT 1`,
  },
  {
    tool: 'version column',
    columns: ['version'],
    query: (table) => `SELECT max(version)::text AS version FROM ${table}`,
  },
];

export async function readMigration(client: ClientBase, table: string): Promise<FactMap> {
  const facts: FactMap = { 'migration.table': table };
  // The name as the server quotes it (from the catalog), so it is safe to put into the query text.
  const { rows } = await client.query<{ qualified: string | null; columns: string[] | null }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS qualified,
            (SELECT array_agg(a.attname::text) FROM pg_attribute a
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.oid = to_regclass($1)`,
    [table],
  );
  const found = rows[0];
  if (!found?.qualified) {
    facts['migration.missing'] = true;
    return facts;
  }
  const columns = new Set(found.columns ?? []);
  const shape = SHAPES.find((candidate) => candidate.columns.every((column) => columns.has(column)));
  if (!shape) {
    facts['migration.error'] =
      `table ${table} has none of the columns a migration tool keeps (version, version_num, or id+name+batch)`;
    return facts;
  }
  const result = await client.query<{ version: string | null }>(shape.query(found.qualified));
  facts['migration.version'] = result.rows[0]?.version ?? null;
  return facts;
}
