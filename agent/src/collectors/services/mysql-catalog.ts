/**
 * What a MySQL/MariaDB login adds to the greeting: global settings (`SHOW GLOBAL VARIABLES`) and the
 * shape of configured tables from information_schema (TABLES.TABLE_ROWS is the engine's estimate:
 * never a count of user rows). mysql2 loads lazily, only for services that name a user.
 */
import type { MysqlServiceConfig } from '@envparity/shared';
import { type FactMap, formatPath } from '@envparity/shared';
import type { Connection, QueryError, RowDataPacket } from 'mysql2';
import { describeSocketError } from './tcp-connect.js';

/** Reported settings; the numeric ones become numbers (bytes, connections). */
export const MYSQL_SETTINGS = [
  'sql_mode',
  'innodb_buffer_pool_size',
  'max_connections',
  'time_zone',
  'character_set_server',
  'collation_server',
] as const;
const NUMERIC_SETTINGS = new Set<string>(['innodb_buffer_pool_size', 'max_connections']);

const SETTINGS_SQL = `SHOW GLOBAL VARIABLES WHERE Variable_name IN (${MYSQL_SETTINGS.map((name) => `'${name}'`).join(', ')})`;
const TABLES_SQL =
  'SELECT TABLE_SCHEMA AS table_schema, TABLE_NAME AS table_name, TABLE_ROWS AS table_rows' +
  ' FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (?) AND TABLE_NAME IN (?)';
const COLUMNS_SQL =
  'SELECT TABLE_SCHEMA AS table_schema, TABLE_NAME AS table_name, COLUMN_NAME AS column_name,' +
  ' COLUMN_TYPE AS column_type, IS_NULLABLE AS is_nullable' +
  ' FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN (?) AND TABLE_NAME IN (?)' +
  ' ORDER BY ORDINAL_POSITION';

export interface CatalogRead {
  /** `SELECT @@version`: the greeting's version without MariaDB's replication prefix. */
  version?: string;
  facts: FactMap;
  error?: string;
}

/** A mysql2 failure in words: the server's own message for SQL errors, the socket reason otherwise. */
export function mysqlErrorText(error: unknown, spec: Pick<MysqlServiceConfig, 'host' | 'port'>): string {
  const failure = error as Partial<QueryError> & { sqlMessage?: string };
  if (failure.sqlMessage) return `${failure.sqlMessage} (${failure.code ?? failure.errno})`;
  if (failure.code && /^E[A-Z]+$/.test(failure.code)) return describeSocketError(failure, spec.host, spec.port);
  return failure.message ?? String(error);
}

/** `schema.name` or `name` in the service's database. */
function splitTableName(table: string, database: string | undefined): { schema: string; name: string } {
  const dot = table.indexOf('.');
  if (dot > 0) return { schema: table.slice(0, dot), name: table.slice(dot + 1) };
  return { schema: database ?? '', name: table };
}

async function readSettings(connection: Connection, facts: FactMap): Promise<void> {
  const [rows] = await connection.promise().query<RowDataPacket[]>(SETTINGS_SQL);
  for (const row of rows) {
    const name = String(row.Variable_name);
    const value = row.Value === null ? null : String(row.Value);
    facts[formatPath(['settings', name])] = value !== null && NUMERIC_SETTINGS.has(name) ? Number(value) : value;
  }
}

async function readTables(connection: Connection, spec: MysqlServiceConfig, facts: FactMap): Promise<void> {
  const wanted = spec.tables.map((table) => ({ table, ...splitTableName(table, spec.database) }));
  const schemas = [...new Set(wanted.map((entry) => entry.schema))];
  const names = [...new Set(wanted.map((entry) => entry.name))];
  const [tableRows] = await connection.promise().query<RowDataPacket[]>(TABLES_SQL, [schemas, names]);
  const [columnRows] = await connection.promise().query<RowDataPacket[]>(COLUMNS_SQL, [schemas, names]);
  for (const { table, schema, name } of wanted) {
    const found = tableRows.find((row) => row.table_schema === schema && row.table_name === name);
    if (!found) {
      facts[formatPath(['tables', table, 'missing'])] = true;
      continue;
    }
    // NULL for views (and engines without statistics): unknown, not zero.
    facts[formatPath(['tables', table, 'rows'])] = found.table_rows === null ? null : Number(found.table_rows);
    for (const column of columnRows) {
      if (column.table_schema !== schema || column.table_name !== name) continue;
      const type = String(column.column_type) + (column.is_nullable === 'NO' ? ' not null' : '');
      facts[formatPath(['tables', table, 'columns', String(column.column_name)])] = type;
    }
  }
}

/**
 * Logs in (mysql2), reads settings and tables, closes. Never throws: what failed is in `error`,
 * what was read before it is in `facts`. The connection is destroyed when `signal` aborts.
 */
export async function readMysqlCatalog(
  spec: MysqlServiceConfig & { user: string },
  { password, signal, timeoutMs }: { password: string | undefined; signal: AbortSignal; timeoutMs: number },
): Promise<CatalogRead> {
  const facts: FactMap = {};
  const mysql = await import('mysql2');
  const connection = mysql.createConnection({
    ...(spec.host.startsWith('/') ? { socketPath: spec.host } : { host: spec.host, port: spec.port }),
    user: spec.user,
    password,
    database: spec.database,
    connectTimeout: timeoutMs,
    supportBigNumbers: true,
  });
  // Failures surface through the rejected queries; an 'error' event without a listener would throw.
  connection.on('error', () => {});
  const onAbort = () => connection.destroy();
  signal.addEventListener('abort', onAbort, { once: true });
  let stage = `login as ${spec.user}`;
  let version: string | undefined;
  let loggedIn = false;
  try {
    await connection.promise().connect();
    loggedIn = true;
    stage = 'reading settings';
    const [versionRows] = await connection.promise().query<RowDataPacket[]>('SELECT @@version AS version');
    if (versionRows[0]?.version != null) version = String(versionRows[0].version);
    await readSettings(connection, facts);
    if (spec.tables.length > 0) {
      stage = 'reading tables';
      await readTables(connection, spec, facts);
    }
    return { version, facts };
  } catch (error) {
    return { version, facts, error: `${stage} failed: ${mysqlErrorText(error, spec)}` };
  } finally {
    signal.removeEventListener('abort', onAbort);
    // COM_QUIT when the session is up: a dropped one counts in Aborted_clients and the error log.
    if (loggedIn && !signal.aborted) await connection.promise().end();
    connection.destroy();
  }
}
