/**
 * API tokens in SQLite (`tokens`): only the sha256 of a token is stored; a revoked token keeps its
 * row (the audit trail names it) and stops authenticating.
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { ApiTokenRecord, ApiTokenScope } from './fact-store.js';

export interface NewApiToken {
  name: string;
  scope: ApiTokenScope;
  tokenHash: string;
  at: number;
}

export interface TokenRow {
  id: string;
  name: string;
  scope: ApiTokenScope;
  created_at: number;
  revoked_at: number | null;
}

export function toToken(row: TokenRow): ApiTokenRecord {
  return { id: row.id, name: row.name, scope: row.scope, createdAt: row.created_at, revokedAt: row.revoked_at };
}

function prepare(db: Database.Database) {
  return {
    insertToken: db.prepare(
      'INSERT INTO tokens (id, name, scope, token_hash, created_at) VALUES (@id, @name, @scope, @tokenHash, @at)',
    ),
    findToken: db.prepare(
      'SELECT id, name, scope, created_at, revoked_at FROM tokens WHERE token_hash = ? AND revoked_at IS NULL',
    ),
    listTokens: db.prepare('SELECT id, name, scope, created_at, revoked_at FROM tokens ORDER BY created_at, id'),
    revokeToken: db.prepare('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
  };
}

/** API tokens of one backend; the conformance suite (repositories.conformance.test.ts) holds any implementation to it. */
export interface ApiTokenRepository {
  create(input: NewApiToken): ApiTokenRecord;
  /** The token with this hash, if it is not revoked. */
  find(tokenHash: string): ApiTokenRecord | undefined;
  /** Every token, revoked ones included, by creation. */
  list(): ApiTokenRecord[];
  /** False when unknown or already revoked. */
  revoke(id: string, at: number): boolean;
}

export class SqliteApiTokenRepository implements ApiTokenRepository {
  private readonly stmt: ReturnType<typeof prepare>;

  constructor(db: Database.Database) {
    this.stmt = prepare(db);
  }

  create(input: NewApiToken): ApiTokenRecord {
    const id = randomUUID();
    this.stmt.insertToken.run({ id, name: input.name, scope: input.scope, tokenHash: input.tokenHash, at: input.at });
    return { id, name: input.name, scope: input.scope, createdAt: input.at, revokedAt: null };
  }

  find(tokenHash: string): ApiTokenRecord | undefined {
    const row = this.stmt.findToken.get(tokenHash) as TokenRow | undefined;
    return row ? toToken(row) : undefined;
  }

  list(): ApiTokenRecord[] {
    return (this.stmt.listTokens.all() as TokenRow[]).map(toToken);
  }

  revoke(id: string, at: number): boolean {
    return this.stmt.revokeToken.run(at, id).changes > 0;
  }
}
