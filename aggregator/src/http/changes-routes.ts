/**
 * `/api/v1/changes`: the environment-wide change feed, newest first, paged.
 */
import type { ApiRouter } from './api-router.js';
import type { ReportRouteDeps } from './report-route-deps.js';

export function registerChangesRoutes(_router: ApiRouter, _deps: ReportRouteDeps): void {}
