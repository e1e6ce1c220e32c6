/**
 * `/audit`: the live parity audit (and recorded ones), with exports.
 */
import type { PageRouter } from '../dashboard-env.js';
import type { PageDeps } from './index.js';

export function registerAuditPage(_router: PageRouter, _deps: PageDeps): void {}
