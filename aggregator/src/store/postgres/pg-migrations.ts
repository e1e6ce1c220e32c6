/**
 * PostgreSQL schema migrations, applied in order; `envparity_schema` holds which ran. Append only,
 * as the SQLite ones (../migrations.ts): a released migration never changes. Migration 1 is the
 * schema SQLite reached after its tenth migration, in PostgreSQL's types; the tables, columns and
 * indexes keep their names so the repositories' SQL reads alike.
 *
 * Several aggregators may start at once on one database: the migrations run in one transaction
 * under a transaction-scoped advisory lock, so one of them migrates and the others, once the lock
 * is theirs, find nothing left to do. PostgreSQL's DDL is transactional, so a failed migration
 * leaves the schema as it was.
 */
import { StoreError } from '../../errors.js';
import type { PgBridge } from './pg-bridge.js';

/** The advisory lock key the migrations hold (any constant the application owns; "envp" in ASCII). */
export const MIGRATION_LOCK_KEY = 0x656e7670;

export const PG_MIGRATIONS: readonly string[] = [
  // 1: the schema of SQLite migration 10.
  `
  CREATE TABLE hosts (
    id            TEXT PRIMARY KEY,
    environment   TEXT,
    labels        TEXT NOT NULL DEFAULT '{}',
    token_hash    TEXT UNIQUE,
    enrolled_at   BIGINT NOT NULL,
    last_seq      BIGINT NOT NULL DEFAULT 0,
    last_seen     BIGINT,
    agent_version TEXT,
    fingerprint   TEXT,
    fingerprints  TEXT NOT NULL DEFAULT '{}',
    meta          TEXT,
    retired_at    BIGINT,
    retired_by    TEXT
  );
  CREATE INDEX hosts_environment ON hosts (environment);

  CREATE TABLE blobs (
    id   BIGSERIAL PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    data TEXT NOT NULL
  );

  CREATE TABLE host_categories (
    host_id   TEXT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    category  TEXT NOT NULL,
    blob_hash TEXT NOT NULL REFERENCES blobs (hash),
    PRIMARY KEY (host_id, category)
  );
  CREATE INDEX host_categories_blob ON host_categories (blob_hash);

  CREATE TABLE changes (
    id          BIGSERIAL PRIMARY KEY,
    host_id     TEXT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    path        TEXT NOT NULL,
    from_value  TEXT,
    to_value    TEXT,
    environment TEXT,
    emergency   SMALLINT NOT NULL DEFAULT 0
  );
  CREATE INDEX changes_host_at ON changes (host_id, at);
  CREATE INDEX changes_host_seq ON changes (host_id, seq);
  CREATE INDEX changes_environment_path_value ON changes (environment, path, to_value);
  CREATE INDEX changes_environment_at ON changes (environment, at);

  CREATE TABLE environments (
    name       TEXT PRIMARY KEY,
    first_seen BIGINT NOT NULL
  );

  CREATE TABLE exceptions (
    id           TEXT PRIMARY KEY,
    path         TEXT NOT NULL,
    environments TEXT NOT NULL,
    reason       TEXT NOT NULL,
    impact       TEXT,
    owner        TEXT,
    expires_at   BIGINT,
    created_at   BIGINT NOT NULL,
    created_by   TEXT,
    expired_at   BIGINT,
    source       TEXT NOT NULL DEFAULT 'api'
  );

  CREATE TABLE initial_states (
    id          BIGSERIAL PRIMARY KEY,
    host_id     TEXT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    environment TEXT,
    category    TEXT NOT NULL,
    blob_hash   TEXT NOT NULL REFERENCES blobs (hash)
  );
  CREATE INDEX initial_states_environment_category ON initial_states (environment, category);
  CREATE INDEX initial_states_blob ON initial_states (blob_hash);

  CREATE TABLE tokens (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    scope      TEXT NOT NULL CHECK (scope IN ('read', 'verify', 'admin')),
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
  );

  CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );

  CREATE TABLE audit_log (
    id      BIGSERIAL PRIMARY KEY,
    at      BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    source  TEXT,
    details TEXT NOT NULL DEFAULT '{}'
  );
  CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$;
  CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

  CREATE TABLE drift_events (
    id                BIGSERIAL PRIMARY KEY,
    key               TEXT NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('outlier', 'environment', 'emergency', 'lost')),
    environment       TEXT NOT NULL,
    other_environment TEXT,
    host_id           TEXT,
    path              TEXT NOT NULL,
    expected          TEXT,
    actual            TEXT,
    status            TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
    opened_at         BIGINT NOT NULL,
    resolved_at       BIGINT,
    upstream          TEXT,
    seq               BIGINT,
    hosts             TEXT,
    host_count        BIGINT,
    emergency         SMALLINT NOT NULL DEFAULT 0,
    resolution        TEXT,
    exception         TEXT
  );
  CREATE UNIQUE INDEX drift_events_open_key ON drift_events (key) WHERE status = 'open';
  CREATE INDEX drift_events_status_opened ON drift_events (status, opened_at);
  CREATE INDEX drift_events_environment_opened ON drift_events (environment, opened_at);

  CREATE TABLE pending_enrollments (
    host_id       TEXT PRIMARY KEY,
    token_hash    TEXT NOT NULL UNIQUE,
    environment   TEXT,
    labels        TEXT NOT NULL DEFAULT '{}',
    agent_version TEXT,
    requested_at  BIGINT NOT NULL,
    source        TEXT
  );

  CREATE TABLE token_rotations (
    host_id             TEXT PRIMARY KEY,
    requested_at        BIGINT NOT NULL,
    requested_by        TEXT,
    previous_token_hash TEXT
  );

  CREATE TABLE audits (
    id           BIGSERIAL PRIMARY KEY,
    at           BIGINT NOT NULL,
    author       TEXT NOT NULL,
    environments TEXT NOT NULL,
    summary      TEXT NOT NULL,
    report       TEXT NOT NULL
  );

  CREATE TABLE declared_classes (
    glob    TEXT PRIMARY KEY,
    class   TEXT NOT NULL,
    host_id TEXT NOT NULL,
    at      BIGINT NOT NULL
  );
  `,
  // 2: several aggregators on one database (cluster/cluster-presence.ts): who is alive, and which
  // aggregator each connected agent is on.
  `
  CREATE TABLE aggregator_nodes (
    id         TEXT PRIMARY KEY,
    started_at BIGINT NOT NULL,
    seen_at    BIGINT NOT NULL
  );

  CREATE TABLE agent_connections (
    host_id TEXT PRIMARY KEY,
    node_id TEXT NOT NULL,
    since   BIGINT NOT NULL
  );
  CREATE INDEX agent_connections_node ON agent_connections (node_id);

  -- Blobs no host held when an aggregator let go of them, deleted by the leader later (pg-host-facts-repository.ts).
  CREATE TABLE blob_orphans (
    hash  TEXT PRIMARY KEY,
    since BIGINT NOT NULL
  );
  `,
];

/** How many migrations the database has run (0 for an empty one). */
export function pgSchemaVersion(db: PgBridge): number {
  const table = db.get<{ name: string | null }>(`SELECT to_regclass('envparity_schema')::text AS name`);
  if (!table?.name) return 0;
  return db.get<{ version: number }>('SELECT max(version)::bigint AS version FROM envparity_schema')?.version ?? 0;
}

/**
 * Brings the schema up to date, once however many aggregators start together. A database from a
 * newer envparity (more migrations than this build knows) is refused rather than written.
 */
export function migratePostgres(db: PgBridge, now: () => number = Date.now): { from: number; to: number } {
  return db.transaction(() => {
    db.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    db.exec('CREATE TABLE IF NOT EXISTS envparity_schema (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
    const from = pgSchemaVersion(db);
    if (from > PG_MIGRATIONS.length) {
      throw new StoreError(
        'SCHEMA_TOO_NEW',
        `the PostgreSQL database at ${db.description} has schema version ${from}, newer than this aggregator's ${PG_MIGRATIONS.length}; upgrade envparity`,
      );
    }
    for (let version = from + 1; version <= PG_MIGRATIONS.length; version++) {
      db.exec(PG_MIGRATIONS[version - 1] as string);
      db.query('INSERT INTO envparity_schema (version, applied_at) VALUES ($1, $2)', [version, now()]);
    }
    return { from, to: PG_MIGRATIONS.length };
  });
}
