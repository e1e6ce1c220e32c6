/**
 * Parity audits (issue 13 req 1-3): every pair of environments, each difference classified drift | justified | expiring | expired | scale, grouped by cause; recorded audits and what changed since one.
 */
import type { FactStore } from '../store/fact-store.js';
import type { FleetQueries } from './fleet-queries.js';

export interface AuditQueriesDeps {
  queries: FleetQueries;
  store: FactStore;
  now?: () => number;
}

export class AuditQueries {
  private readonly queries: FleetQueries;
  private readonly store: FactStore;
  private readonly now: () => number;

  constructor({ queries, store, now = Date.now }: AuditQueriesDeps) {
    this.queries = queries;
    this.store = store;
    this.now = now;
  }
}
