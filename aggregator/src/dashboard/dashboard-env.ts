/** The Hono environment of dashboard pages and the registrar pages are added with. */
import type { Handler } from 'hono';
import type { ApiPrincipal } from '../http/api-auth.js';
import type { Viewer } from './layout.js';

/** `viewer` (and `principal`, as the API's audit helpers read it) is set by the page auth middleware. */
export type DashboardEnv = { Variables: { principal: ApiPrincipal; viewer: Viewer } };

/** Adds a page route with the dashboard's headers and, unless public, its sign-in check. */
export interface PageRouter {
  get(path: string, handler: Handler<DashboardEnv>): void;
  post(path: string, handler: Handler<DashboardEnv>): void;
}
