/**
 * What holds a fact store's data: one connection with the repositories on it (SQLite or PostgreSQL)
 * and the portable SQL port for the store's own machinery. The fact store (repository-fact-store.ts)
 * composes the rest (the fleet state, the ingest batcher, history compaction and retention) the same
 * way on both.
 */
import type { ApiTokenRepository } from './api-token-repository.js';
import type { AuditRepository } from './audit-repository.js';
import type { ChangeHistoryRepository } from './change-history-repository.js';
import type { DeclaredClassRepository } from './declared-class-repository.js';
import type { DriftEventRepository } from './drift-event-repository.js';
import type { ExceptionRepository } from './exception-repository.js';
import type { HostFactsRepository } from './host-facts-repository.js';
import type { SqlPort } from './sql-port.js';

export interface StoreRepositories {
  hostFacts: HostFactsRepository;
  changes: ChangeHistoryRepository;
  driftEvents: DriftEventRepository;
  exceptions: ExceptionRepository;
  apiTokens: ApiTokenRepository;
  audits: AuditRepository;
  declaredClasses: DeclaredClassRepository;
}

export interface StoreBackend {
  readonly kind: 'sqlite' | 'postgres';
  /** Where the data is, for messages: a file path, or host:port/database (never a password). */
  readonly location: string;
  readonly sql: SqlPort;
  readonly repositories: StoreRepositories;
  /** Bytes the data takes. */
  sizeBytes(): number;
  /** The backend's own consistency check ('ok' when sound). */
  integrityCheck(): string;
  /**
   * Ends the connection. `shutdown`: a clean close (not a failed open), with the host count for the
   * clean-shutdown record where the backend keeps one. Throws what failed, after closing anyway.
   */
  close(shutdown?: { hostCount: number }): void;
}
