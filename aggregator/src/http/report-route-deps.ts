/** What the audit, promotion and change-feed routes read through (built once in create-app.ts). */
import type { AuditQueries } from '../queries/audit-queries.js';
import type { FleetQueries } from '../queries/fleet-queries.js';
import type { HistoryQueries } from '../queries/history-queries.js';
import type { PromotionQueries } from '../queries/promotion-queries.js';
import type { FactStore } from '../store/fact-store.js';

export interface ReportRouteDeps {
  queries: FleetQueries;
  audits: AuditQueries;
  promotion: PromotionQueries;
  history: HistoryQueries;
  store: FactStore;
  now: () => number;
}
