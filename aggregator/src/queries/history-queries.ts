/**
 * Time travel (issue 13 req 5): a host, a baseline, a compare at a past instant, rebuilt from the stored initial states and changes; the environment-wide change feed.
 */
import type { FactStore } from '../store/fact-store.js';
import type { FleetQueries } from './fleet-queries.js';

export interface HistoryQueriesDeps {
  queries: FleetQueries;
  store: FactStore;
  now?: () => number;
}

export class HistoryQueries {
  private readonly queries: FleetQueries;
  private readonly store: FactStore;
  private readonly now: () => number;

  constructor({ queries, store, now = Date.now }: HistoryQueriesDeps) {
    this.queries = queries;
    this.store = store;
    this.now = now;
  }
}
