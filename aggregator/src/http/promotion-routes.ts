/**
 * `/api/v1/promotion`: changes waiting to be promoted, and changes out of order.
 */
import type { ApiRouter } from './api-router.js';
import type { ReportRouteDeps } from './report-route-deps.js';

export function registerPromotionRoutes(_router: ApiRouter, _deps: ReportRouteDeps): void {}
