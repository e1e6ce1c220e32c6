/**
 * `/api/v1/audit` (live parity audit) and `/api/v1/audits` (recorded audits).
 */
import type { ApiRouter } from './api-router.js';
import type { ReportRouteDeps } from './report-route-deps.js';

export function registerAuditRoutes(_router: ApiRouter, _deps: ReportRouteDeps): void {}
