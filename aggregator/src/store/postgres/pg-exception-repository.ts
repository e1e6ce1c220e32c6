/** Exceptions on PostgreSQL: the portable repository (../exception-repository.ts) on the bridge. */
import { SqlExceptionRepository } from '../exception-repository.js';
import { PgSqlPort } from '../sql-port.js';
import type { PgBridge } from './pg-bridge.js';

export class PgExceptionRepository extends SqlExceptionRepository {
  constructor(db: PgBridge) {
    super(new PgSqlPort(db));
  }
}
