/**
 * `GET /api/v1/fleet-key` (scope `verify`): the fleet key, so `verify` and `baseline` on a CI runner
 * (no agent state dir) hash secrets exactly as enrolled agents do. A read-only route: it registers
 * nothing, so running `verify` from a fresh dir never adds a host to the fleet. The key is the same
 * string the `enrolled` protocol message carries.
 */
import { z } from 'zod';
import type { ApiRouter } from './api-router.js';

export const fleetKeyResponseSchema = z.object({
  fleetKey: z.string().meta({ description: 'HMAC key for secret values (as `enrolled.fleetKey`). Keep it secret.' }),
});

export function registerFleetKeyRoutes(router: ApiRouter, { fleetKey }: { fleetKey: string }): void {
  router.add(
    {
      method: 'get',
      path: '/api/v1/fleet-key',
      operationId: 'getFleetKey',
      summary: 'The fleet key for verify/baseline on a CI runner; registers nothing',
      description:
        'Needs a token with the `verify` (or `admin`) scope; a `read` token gets 403. The answer is the key agents ' +
        'receive at enrollment, so secret hashes computed with it equal the fleet’s. Nothing is stored or enrolled.',
      tag: 'verify',
      auth: 'verify',
      response: fleetKeyResponseSchema,
    },
    ({ c }) => {
      c.header('cache-control', 'no-store');
      return { fleetKey };
    },
  );
}
