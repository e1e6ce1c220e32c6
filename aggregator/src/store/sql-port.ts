/**
 * The few SQL calls the store's own machinery makes (history compaction and retention, history
 * starts, the audit log, host admission), on either backend. Repositories have their SQL per
 * backend (one class each, Fleet's datastore style); this machinery is written once in SQL both
 * SQLite and PostgreSQL run alike: `?` placeholders, `INSERT ... ON CONFLICT DO NOTHING`, no bare
 * columns beside an aggregate, `ORDER BY` on integers or with an explicit order.
 */
import type Database from 'better-sqlite3';
import type { PgBridge } from './postgres/pg-bridge.js';

export interface SqlPort {
  readonly dialect: 'sqlite' | 'postgres';
  all<Row>(sql: string, params?: readonly unknown[]): Row[];
  get<Row>(sql: string, params?: readonly unknown[]): Row | undefined;
  /** Rows changed. */
  run(sql: string, params?: readonly unknown[]): number;
  /** BEGIN ... COMMIT (ROLLBACK when `fn` throws); nested calls are savepoints. */
  transaction<T>(fn: () => T): T;
  /**
   * Sends the writes held back so far (PostgreSQL defers writes nobody reads) and throws what
   * failed; SQLite runs every statement at once, so there is nothing to send. Call it before
   * acting on writes having succeeded.
   */
  flush(): void;
}

/** better-sqlite3 with its statements prepared once per SQL text. */
export class SqliteSqlPort implements SqlPort {
  readonly dialect = 'sqlite';
  private readonly statements = new Map<string, Database.Statement>();
  /** One wrapper built once: better-sqlite3 runs a nested call as a savepoint. */
  private readonly inTransaction: (fn: () => unknown) => unknown;

  constructor(readonly db: Database.Database) {
    this.inTransaction = db.transaction((fn: () => unknown) => fn());
  }

  flush(): void {}

  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  all<Row>(sql: string, params: readonly unknown[] = []): Row[] {
    return this.statement(sql).all(...params) as Row[];
  }

  get<Row>(sql: string, params: readonly unknown[] = []): Row | undefined {
    return this.statement(sql).get(...params) as Row | undefined;
  }

  run(sql: string, params: readonly unknown[] = []): number {
    return this.statement(sql).run(...params).changes;
  }

  transaction<T>(fn: () => T): T {
    return this.inTransaction(fn) as T;
  }
}

/** `?` placeholders as PostgreSQL's `$1, $2, ...` (the port's SQL has no `?` inside literals). */
export function numberPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** The port on the PostgreSQL bridge. */
export class PgSqlPort implements SqlPort {
  readonly dialect = 'postgres';
  private readonly translated = new Map<string, string>();

  constructor(readonly db: PgBridge) {}

  flush(): void {
    this.db.flush();
  }

  private text(sql: string): string {
    let text = this.translated.get(sql);
    if (text === undefined) {
      text = numberPlaceholders(sql);
      this.translated.set(sql, text);
    }
    return text;
  }

  all<Row>(sql: string, params: readonly unknown[] = []): Row[] {
    return this.db.query<Row>(this.text(sql), params).rows;
  }

  get<Row>(sql: string, params: readonly unknown[] = []): Row | undefined {
    return this.db.get<Row>(this.text(sql), params);
  }

  run(sql: string, params: readonly unknown[] = []): number {
    return this.db.run(this.text(sql), params);
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn);
  }
}
