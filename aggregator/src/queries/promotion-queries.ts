/**
 * Promotion tracking (issue 13 req 4): changes an upstream environment got that its downstream has not yet, and changes that reached downstream first (out of order).
 */
import type { FactStore } from '../store/fact-store.js';
import type { FleetQueries } from './fleet-queries.js';

export interface PromotionQueriesDeps {
  queries: FleetQueries;
  store: FactStore;
  now?: () => number;
}

export class PromotionQueries {
  private readonly queries: FleetQueries;
  private readonly store: FactStore;
  private readonly now: () => number;

  constructor({ queries, store, now = Date.now }: PromotionQueriesDeps) {
    this.queries = queries;
    this.store = store;
    this.now = now;
  }
}
