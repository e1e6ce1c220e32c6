/**
 * `POST /api/v1/sign-in-codes`: a one-time dashboard sign-in link for the caller's own token, so
 * `npm start` and `npm run demo` can print a link instead of a token. The code signs a browser in
 * as the caller (same scope), once, within 15 minutes; only its sha256 is kept.
 */
import { z } from 'zod';
import { sessionTokenHash } from '../dashboard/page-auth.js';
import type { SessionStore } from '../dashboard/sessions.js';
import { bearerTokenOf } from './api-auth.js';
import type { ApiRouter } from './api-router.js';
import { isoDateTime } from './api-schemas.js';

export const signInCodeSchema = z.object({
  code: z.string(),
  path: z.string(),
  expiresAt: isoDateTime,
});

export function registerSignInCodesRoutes(router: ApiRouter, { sessions }: { sessions: SessionStore }): void {
  router.add(
    {
      method: 'post',
      path: '/api/v1/sign-in-codes',
      operationId: 'createSignInCode',
      summary: 'A one-time dashboard sign-in link for the calling token',
      description:
        'Open `path` on this server within 15 minutes to sign a browser in with the scope of the token that ' +
        'asked for it; the code works once. The token itself never appears in the link.',
      tag: 'tokens',
      auth: 'read',
      status: 201,
      response: signInCodeSchema,
    },
    ({ c }) => {
      const principal = c.get('principal');
      const token = bearerTokenOf(c.req.header('authorization')) ?? '';
      const { code, expiresAt } = sessions.mintCode(principal, sessionTokenHash(principal.id, token));
      return { code, path: `/login?code=${code}`, expiresAt: new Date(expiresAt).toISOString() };
    },
  );
}
