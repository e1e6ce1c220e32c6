/**
 * `watch.services`: the servers an application talks to, whose versions and settings the agent
 * reports under `service.<name>.*` (agent/src/collectors/service.ts). Credentials never live in the
 * config: a password comes from an env var (`passwordEnv`) or a file (`passwordFile`), is used for
 * the connection only and never reported. A `password` key is refused with a message saying so.
 */
import { z } from 'zod';

/** Default time one service may take (connect, handshake, queries), in seconds. */
export const DEFAULT_SERVICE_TIMEOUT_SECONDS = 5;

/** PostgreSQL settings reported when the config names none (`settings`). */
export const DEFAULT_POSTGRES_SETTINGS = [
  'max_connections',
  'shared_buffers',
  'work_mem',
  'timezone',
  'server_encoding',
  'lc_collate',
  'default_transaction_isolation',
  'statement_timeout',
] as const;

const nonEmpty = z.string().min(1, 'must not be empty');
const serviceName = z.string().regex(/^[A-Za-z0-9_-]+$/, 'service names are letters, digits, _ and -');
const serviceHost = z
  .string({
    error: (issue) =>
      issue.input === undefined ? "required: the server's host name or address" : 'expected a host name or address',
  })
  .min(1, "required: the server's host name or address")
  .regex(
    /^[^\s/]+$|^\/\S+$/,
    'expected a host name, an address, or a unix socket path starting with / (postgres: its directory)',
  )
  // `[::1]` as in URLs: sockets want the bare address.
  .transform((host) => (/^\[[0-9A-Fa-f:.]+\]$/.test(host) ? host.slice(1, -1) : host));
const port = (defaultPort: number) => z.number().int().min(1).max(65_535).default(defaultPort);
const envVarName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an env var name: letters, digits and _');
/** A table as SQL names it: `name` or `schema.name`, plain identifiers only (they end up in catalog queries as values). */
const tableName = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/,
    'a table name: name or schema.name, plain identifiers',
  );

const CLEAR_PASSWORD_MESSAGE =
  'a password is never written in the config: put it in an env var named by passwordEnv, or in a file named by passwordFile';
/** Refuses a clear-text `password` key with a message naming where it belongs. */
const refusedPassword = z
  .unknown()
  .optional()
  .refine((value) => value === undefined, CLEAR_PASSWORD_MESSAGE);

const credentialKeys = {
  passwordEnv: envVarName.optional(),
  passwordFile: nonEmpty.optional(),
  password: refusedPassword,
};

const common = {
  name: serviceName,
  timeout: z.number().positive().max(120).default(DEFAULT_SERVICE_TIMEOUT_SECONDS),
};

export const postgresServiceSchema = z.strictObject({
  ...common,
  type: z.literal('postgres'),
  host: serviceHost,
  port: port(5432),
  database: nonEmpty.default('postgres'),
  user: nonEmpty.default('postgres'),
  ...credentialKeys,
  /** `pg_settings` names to report (default DEFAULT_POSTGRES_SETTINGS). */
  settings: z
    .array(z.string().regex(/^[a-z_][a-z0-9_.]*$/, 'a PostgreSQL setting name, e.g. work_mem'))
    .default([...DEFAULT_POSTGRES_SETTINGS]),
  /** A migrations table (schema_migrations, knex_migrations, flyway_schema_history, alembic_version, ...). */
  migrationsTable: tableName.optional(),
  /** Tables whose estimated rows and columns are reported (data shape). */
  tables: z.array(tableName).default([]),
});

export const mysqlServiceSchema = z
  .strictObject({
    ...common,
    type: z.literal('mysql'),
    host: serviceHost,
    port: port(3306),
    /** Without a user only the server's greeting (its version) is read. */
    user: nonEmpty.optional(),
    database: nonEmpty.optional(),
    ...credentialKeys,
    tables: z.array(tableName).default([]),
  })
  .superRefine((spec, context) => {
    if (spec.tables.length > 0 && (spec.user === undefined || spec.database === undefined)) {
      context.addIssue({ code: 'custom', path: ['tables'], message: 'tables need user and database to read them' });
    }
  });

export const redisServiceSchema = z.strictObject({
  ...common,
  type: z.literal('redis'),
  host: serviceHost,
  port: port(6379),
  /** Redis 6 ACL user; AUTH uses only the password without it. */
  username: nonEmpty.optional(),
  ...credentialKeys,
});

export const httpServiceSchema = z.strictObject({
  ...common,
  type: z.literal('http'),
  url: z.string().regex(/^https?:\/\/\S+$/, 'expected an http:// or https:// URL'),
  /** A response header holding the version (e.g. X-App-Version). */
  versionHeader: z
    .string()
    .regex(/^[A-Za-z0-9-]+$/, 'a header name')
    .optional(),
  /** A JSON path into the body holding the version: `$.version`, `$.build.version`, `$.items[0].v`. */
  versionJsonPath: z
    .string()
    .regex(/^\$(\.[A-Za-z_$][A-Za-z0-9_$-]*|\[\d+\])*$/, 'a JSON path such as $.version or $.build.version')
    .optional(),
});

export const tcpServiceSchema = z.strictObject({
  ...common,
  type: z.literal('tcp'),
  host: serviceHost,
  port: z.number().int().min(1).max(65_535),
  /** Read the first line the server sends on connect (SSH, SMTP, FTP); default true. */
  banner: z.boolean().default(true),
});

export const SERVICE_TYPES = ['postgres', 'mysql', 'redis', 'http', 'tcp'] as const;

export const serviceSchema = z.discriminatedUnion(
  'type',
  [postgresServiceSchema, mysqlServiceSchema, redisServiceSchema, httpServiceSchema, tcpServiceSchema],
  { error: () => `expected one of ${SERVICE_TYPES.join(', ')}` },
);

export const servicesSchema = z
  .array(serviceSchema)
  .default([])
  .refine((list) => new Set(list.map((s) => s.name)).size === list.length, 'service names must be unique');

export type ServiceConfig = z.infer<typeof serviceSchema>;
export type PostgresServiceConfig = z.infer<typeof postgresServiceSchema>;
export type MysqlServiceConfig = z.infer<typeof mysqlServiceSchema>;
export type RedisServiceConfig = z.infer<typeof redisServiceSchema>;
export type HttpServiceConfig = z.infer<typeof httpServiceSchema>;
export type TcpServiceConfig = z.infer<typeof tcpServiceSchema>;
