/**
 * Schema migrations, applied in order; `PRAGMA user_version` holds how many ran. Append only:
 * a released migration never changes, so every database reaches the same schema.
 */
import type Database from 'better-sqlite3';
import { StoreError } from '../errors.js';

export const MIGRATIONS: readonly string[] = [
  // 1: hosts, content-addressed category blobs, per-path change history, API tokens.
  `
  CREATE TABLE hosts (
    id            TEXT PRIMARY KEY,
    environment   TEXT,
    labels        TEXT NOT NULL DEFAULT '{}',
    token_hash    TEXT UNIQUE,
    enrolled_at   INTEGER NOT NULL,
    last_seq      INTEGER NOT NULL DEFAULT 0,
    last_seen     INTEGER,
    agent_version TEXT,
    fingerprint   TEXT,
    fingerprints  TEXT NOT NULL DEFAULT '{}',
    meta          TEXT
  );
  CREATE INDEX hosts_environment ON hosts (environment);

  CREATE TABLE blobs (
    hash TEXT PRIMARY KEY,
    data TEXT NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE host_categories (
    host_id   TEXT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    category  TEXT NOT NULL,
    blob_hash TEXT NOT NULL REFERENCES blobs (hash),
    PRIMARY KEY (host_id, category)
  ) WITHOUT ROWID;
  CREATE INDEX host_categories_blob ON host_categories (blob_hash);

  CREATE TABLE changes (
    id         INTEGER PRIMARY KEY,
    host_id    TEXT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    path       TEXT NOT NULL,
    from_value TEXT,
    to_value   TEXT
  );
  CREATE INDEX changes_host_at ON changes (host_id, at);
  CREATE INDEX changes_host_seq ON changes (host_id, seq);

  CREATE TABLE tokens (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    scope      TEXT NOT NULL CHECK (scope IN ('read', 'admin')),
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
  );
  `,
];

/** Brings the database to the latest schema, one transaction per migration. */
export function migrate(db: Database.Database, migrations: readonly string[] = MIGRATIONS): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    throw new StoreError(
      'SCHEMA_TOO_NEW',
      `database schema version ${current} is newer than this aggregator knows (${migrations.length}); upgrade the aggregator`,
    );
  }
  for (let version = current; version < migrations.length; version++) {
    db.transaction(() => {
      db.exec(migrations[version] as string);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
  return migrations.length;
}
