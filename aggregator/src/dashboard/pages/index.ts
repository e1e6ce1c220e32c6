/** Every signed-in dashboard page, registered in one place. */
import type { AuditQueries } from '../../queries/audit-queries.js';
import type { FleetCommands } from '../../queries/fleet-commands.js';
import type { FleetQueries } from '../../queries/fleet-queries.js';
import type { HistoryQueries } from '../../queries/history-queries.js';
import type { PromotionQueries } from '../../queries/promotion-queries.js';
import type { FactStore } from '../../store/fact-store.js';
import type { PageRouter } from '../dashboard-env.js';
import { registerAuditPage } from './audit-page.js';
import { registerComparePages } from './compare-page.js';
import { registerDriftPage } from './drift-page.js';
import { registerEnvironmentPage } from './environment-page.js';
import { registerExceptionsPage } from './exceptions-page.js';
import { registerFactsPage } from './facts-page.js';
import { registerHostsPages } from './hosts-page.js';
import { registerOverviewPage } from './overview-page.js';
import { registerPromotionPage } from './promotion-page.js';

export interface PageDeps {
  queries: FleetQueries;
  commands: FleetCommands;
  audits: AuditQueries;
  promotion: PromotionQueries;
  history: HistoryQueries;
  /** The audit log, for admin actions taken on a page. */
  store: Pick<FactStore, 'audit'>;
  now: () => number;
}

export function registerPages(router: PageRouter, deps: PageDeps): void {
  registerOverviewPage(router, deps);
  registerComparePages(router, deps);
  registerEnvironmentPage(router, deps);
  registerHostsPages(router, deps);
  registerDriftPage(router, deps);
  registerExceptionsPage(router, deps);
  registerFactsPage(router, deps);
  registerPromotionPage(router, deps);
  registerAuditPage(router, deps);
}
