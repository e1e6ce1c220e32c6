/** API tokens on PostgreSQL (`tokens`): only the sha256 of a token is stored, as in SQLite. */
import { randomUUID } from 'node:crypto';
import { type ApiTokenRepository, type NewApiToken, type TokenRow, toToken } from '../api-token-repository.js';
import type { ApiTokenRecord } from '../fact-store.js';
import type { PgBridge } from './pg-bridge.js';

const COLUMNS = 'id, name, scope, created_at, revoked_at';

export class PgApiTokenRepository implements ApiTokenRepository {
  constructor(private readonly db: PgBridge) {}

  create(input: NewApiToken): ApiTokenRecord {
    const id = randomUUID();
    this.db.run('INSERT INTO tokens (id, name, scope, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)', [
      id,
      input.name,
      input.scope,
      input.tokenHash,
      input.at,
    ]);
    return { id, name: input.name, scope: input.scope, createdAt: input.at, revokedAt: null };
  }

  find(tokenHash: string): ApiTokenRecord | undefined {
    const row = this.db.get<TokenRow>(`SELECT ${COLUMNS} FROM tokens WHERE token_hash = $1 AND revoked_at IS NULL`, [
      tokenHash,
    ]);
    return row ? toToken(row) : undefined;
  }

  list(): ApiTokenRecord[] {
    return this.db
      .query<TokenRow>(`SELECT ${COLUMNS} FROM tokens ORDER BY created_at, id COLLATE "C"`)
      .rows.map(toToken);
  }

  revoke(id: string, at: number): boolean {
    return this.db.run('UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [at, id]) > 0;
  }
}
