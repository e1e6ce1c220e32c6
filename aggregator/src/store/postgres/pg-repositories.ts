/** Every repository on one PostgreSQL connection (the second backend of repositories.conformance.test.ts). */

import type { StoreRepositories } from '../store-backend.js';
import { PgApiTokenRepository } from './pg-api-token-repository.js';
import { PgAuditRepository } from './pg-audit-repository.js';
import type { PgBridge } from './pg-bridge.js';
import { PgChangeHistoryRepository } from './pg-change-history-repository.js';
import { PgDeclaredClassRepository } from './pg-declared-class-repository.js';
import { PgDriftEventRepository } from './pg-drift-event-repository.js';
import { PgExceptionRepository } from './pg-exception-repository.js';
import { PgHostFactsRepository } from './pg-host-facts-repository.js';

export function openPgRepositories(db: PgBridge): StoreRepositories {
  return {
    apiTokens: new PgApiTokenRepository(db),
    driftEvents: new PgDriftEventRepository(db),
    exceptions: new PgExceptionRepository(db),
    hostFacts: new PgHostFactsRepository(db),
    changes: new PgChangeHistoryRepository(db),
    audits: new PgAuditRepository(db),
    declaredClasses: new PgDeclaredClassRepository(db),
  };
}
