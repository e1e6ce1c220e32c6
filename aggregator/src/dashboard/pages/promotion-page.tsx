/**
 * `/promotion`: changes waiting to be promoted and changes out of order, per pair.
 */
import type { PageRouter } from '../dashboard-env.js';
import type { PageDeps } from './index.js';

export function registerPromotionPage(_router: PageRouter, _deps: PageDeps): void {}
