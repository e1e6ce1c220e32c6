/**
 * Schema migrations, applied in order; `PRAGMA user_version` holds how many ran. Append only:
 * a released migration never changes, so every database reaches the same schema.
 */
import type Database from 'better-sqlite3';
import { StoreError } from '../errors.js';

/**
 * A migration that rebuilds a table other tables reference runs with foreign keys off (SQLite
 * cannot drop such a parent otherwise, nor switch them inside a transaction); the references are
 * checked before it commits.
 */
export interface TableRebuild {
  rebuild: string;
}

export const MIGRATIONS: readonly (string | TableRebuild)[] = [
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
  // 2: drift engine. Changes remember the host's environment (emergency detection asks "did this
  // environment ever have this value?"), known environments, exceptions, drift events.
  `
  ALTER TABLE changes ADD COLUMN environment TEXT;
  ALTER TABLE changes ADD COLUMN emergency INTEGER NOT NULL DEFAULT 0;
  UPDATE changes SET environment = (SELECT environment FROM hosts WHERE hosts.id = changes.host_id);
  CREATE INDEX changes_environment_path_value ON changes (environment, path, to_value);

  CREATE TABLE environments (
    name       TEXT PRIMARY KEY,
    first_seen INTEGER NOT NULL
  ) WITHOUT ROWID;
  INSERT OR IGNORE INTO environments (name, first_seen)
    SELECT environment, MIN(enrolled_at) FROM hosts WHERE environment IS NOT NULL GROUP BY environment;

  CREATE TABLE exceptions (
    id           TEXT PRIMARY KEY,
    path         TEXT NOT NULL,
    environments TEXT NOT NULL,
    reason       TEXT NOT NULL,
    impact       TEXT,
    owner        TEXT,
    expires_at   INTEGER,
    created_at   INTEGER NOT NULL,
    created_by   TEXT,
    expired_at   INTEGER
  );

  CREATE TABLE drift_events (
    id                INTEGER PRIMARY KEY,
    key               TEXT NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('outlier', 'environment', 'emergency')),
    environment       TEXT NOT NULL,
    other_environment TEXT,
    host_id           TEXT,
    path              TEXT NOT NULL,
    expected          TEXT,
    actual            TEXT,
    status            TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
    opened_at         INTEGER NOT NULL,
    resolved_at       INTEGER,
    upstream          TEXT,
    seq               INTEGER
  );
  CREATE UNIQUE INDEX drift_events_open_key ON drift_events (key) WHERE status = 'open';
  CREATE INDEX drift_events_status_opened ON drift_events (status, opened_at);
  CREATE INDEX drift_events_environment_opened ON drift_events (environment, opened_at);
  `,
  // 3: a host's first report is its initial state, not a list of per-path "added" changes: one row
  // per category pointing at its blob (which stays stored while a row points at it), stamped with
  // the host's environment so "did this environment ever have this value?" still sees it.
  `
  CREATE TABLE initial_states (
    id          INTEGER PRIMARY KEY,
    host_id     TEXT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    environment TEXT,
    category    TEXT NOT NULL,
    blob_hash   TEXT NOT NULL REFERENCES blobs (hash)
  );
  CREATE INDEX initial_states_environment_category ON initial_states (environment, category);
  CREATE INDEX initial_states_blob ON initial_states (blob_hash);
  `,
  // 4: retired hosts (kept, out of lists), exceptions loaded from the exceptions file (`source`),
  // and the `verify` token scope (the CHECK constraint is rebuilt with the table).
  `
  ALTER TABLE hosts ADD COLUMN retired_at INTEGER;
  ALTER TABLE hosts ADD COLUMN retired_by TEXT;
  ALTER TABLE exceptions ADD COLUMN source TEXT NOT NULL DEFAULT 'api';
  CREATE TABLE tokens_v4 (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    scope      TEXT NOT NULL CHECK (scope IN ('read', 'verify', 'admin')),
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
  );
  INSERT INTO tokens_v4 (id, name, scope, token_hash, created_at, revoked_at)
    SELECT id, name, scope, token_hash, created_at, revoked_at FROM tokens;
  DROP TABLE tokens;
  ALTER TABLE tokens_v4 RENAME TO tokens;
  `,
  // 5: store safety and the audit log. `store_meta` holds small facts about the store itself (the
  // host count at the last clean shutdown); `audit_log` is append-only (triggers refuse UPDATE and
  // DELETE): admin actions and enrollments, never a secret (store/audit-log.ts).
  `
  CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    source  TEXT,
    details TEXT NOT NULL DEFAULT '{}'
  );
  CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
  CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
  `,
  // 6: drift events grouped by cause: the hosts an event is about, whether an emergency change
  // caused it, why it resolved (and the exception that justified it); kind `lost` (a host past
  // the presence grace). The kind CHECK constraint is rebuilt with the table.
  `
  CREATE TABLE drift_events_v6 (
    id                INTEGER PRIMARY KEY,
    key               TEXT NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('outlier', 'environment', 'emergency', 'lost')),
    environment       TEXT NOT NULL,
    other_environment TEXT,
    host_id           TEXT,
    path              TEXT NOT NULL,
    expected          TEXT,
    actual            TEXT,
    status            TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
    opened_at         INTEGER NOT NULL,
    resolved_at       INTEGER,
    upstream          TEXT,
    seq               INTEGER,
    hosts             TEXT,
    host_count        INTEGER,
    emergency         INTEGER NOT NULL DEFAULT 0,
    resolution        TEXT,
    exception         TEXT
  );
  INSERT INTO drift_events_v6 (id, key, kind, environment, other_environment, host_id, path, expected, actual,
      status, opened_at, resolved_at, upstream, seq, hosts, emergency)
    SELECT id, key, kind, environment, other_environment, host_id, path, expected, actual, status, opened_at,
      resolved_at, upstream, seq, CASE WHEN host_id IS NULL THEN NULL ELSE json_array(host_id) END,
      kind = 'emergency'
    FROM drift_events;
  DROP TABLE drift_events;
  ALTER TABLE drift_events_v6 RENAME TO drift_events;
  CREATE UNIQUE INDEX drift_events_open_key ON drift_events (key) WHERE status = 'open';
  CREATE INDEX drift_events_status_opened ON drift_events (status, opened_at);
  CREATE INDEX drift_events_environment_opened ON drift_events (environment, opened_at);
  `,
  // 7: enrollment control (store/host-admission.ts). Hosts that enrolled in approval mode wait in
  // `pending_enrollments` (token hash only) until an admin approves them; an admin's token rotation
  // waits in `token_rotations` for the host's next hello, which keeps the previous token valid until
  // the agent has used the new one.
  `
  CREATE TABLE pending_enrollments (
    host_id       TEXT PRIMARY KEY,
    token_hash    TEXT NOT NULL UNIQUE,
    environment   TEXT,
    labels        TEXT NOT NULL DEFAULT '{}',
    agent_version TEXT,
    requested_at  INTEGER NOT NULL,
    source        TEXT
  );
  CREATE TABLE token_rotations (
    host_id             TEXT PRIMARY KEY,
    requested_at        INTEGER NOT NULL,
    requested_by        TEXT,
    previous_token_hash TEXT
  );
  `,
  // 8: blobs as a rowid table. WITHOUT ROWID keeps whole rows in the key's B-tree, which SQLite
  // advises against for rows over ~1/20 of a page; blobs are KBs, so every insert split and
  // rewrote pages of that tree (the 10,000-agent storm spent more time in blob inserts and commits
  // than in anything else). The hash keeps a UNIQUE index; references are unchanged.
  {
    rebuild: `
  CREATE TABLE blobs_v8 (
    id   INTEGER PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    data TEXT NOT NULL
  );
  INSERT INTO blobs_v8 (hash, data) SELECT hash, data FROM blobs ORDER BY hash;
  DROP TABLE blobs;
  ALTER TABLE blobs_v8 RENAME TO blobs;
  `,
  },
  // 9: recorded parity audits (store/audit-repository.ts): a snapshot of the audit report with its
  // author, kept so a later audit can say what is new, remediated or justified since; and the
  // environment-wide change feed and time travel read `changes` by environment and time.
  `
  CREATE TABLE audits (
    id           INTEGER PRIMARY KEY,
    at           INTEGER NOT NULL,
    author       TEXT NOT NULL,
    environments TEXT NOT NULL,
    summary      TEXT NOT NULL,
    report       TEXT NOT NULL
  );
  CREATE INDEX changes_environment_at ON changes (environment, at);
  `,
  // 10: classes agents declared for their probes (store/declared-class-repository.ts), the first
  // accepted declaration per glob. No reference to hosts: a retired host's declaration keeps its
  // paths' class, since the fleet keeps one class per path.
  `
  CREATE TABLE declared_classes (
    glob    TEXT PRIMARY KEY,
    class   TEXT NOT NULL,
    host_id TEXT NOT NULL,
    at      INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
];

/** Brings the database to the latest schema, one transaction per migration. */
export function migrate(db: Database.Database, migrations: readonly (string | TableRebuild)[] = MIGRATIONS): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    throw new StoreError(
      'SCHEMA_TOO_NEW',
      `database schema version ${current} is newer than this aggregator knows (${migrations.length}); upgrade the aggregator`,
    );
  }
  for (let version = current; version < migrations.length; version++) {
    const migration = migrations[version] as string | TableRebuild;
    if (typeof migration === 'string') {
      db.transaction(() => {
        db.exec(migration);
        db.pragma(`user_version = ${version + 1}`);
      })();
      continue;
    }
    const foreignKeys = db.pragma('foreign_keys', { simple: true }) as number;
    db.pragma('foreign_keys = OFF');
    try {
      db.transaction(() => {
        db.exec(migration.rebuild);
        const broken = db.pragma('foreign_key_check') as { table: string }[];
        if (broken.length > 0) {
          throw new StoreError(
            'STORE_FAILED',
            `migration ${version + 1} would leave ${broken.length} broken references (first in ${broken[0]?.table})`,
          );
        }
        db.pragma(`user_version = ${version + 1}`);
      })();
    } finally {
      db.pragma(`foreign_keys = ${foreignKeys ? 'ON' : 'OFF'}`);
    }
  }
  return migrations.length;
}
