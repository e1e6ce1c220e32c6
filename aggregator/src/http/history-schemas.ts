/**
 * Schemas of the time-travel answers and the change feed: the live shapes (api-schemas.ts) with the
 * instant they describe, so a client reads a past host, baseline or compare exactly as a current one.
 */
import { z } from 'zod';
import {
  baselineResponseSchema,
  compareResponseSchema,
  factValue,
  hostDetailSchema,
  isoDateTime,
  isoTimeQuery,
} from './api-schemas.js';

/** `at`, `fromAt`, `toAt`: a past ISO instant. */
export const instantQuery = (what: string) =>
  isoTimeQuery.meta({
    description: `ISO time in the past: ${what} as it was then, rebuilt from the stored history (volatile facts left out).`,
  });

export const hostAtSchema = hostDetailSchema.extend({
  at: isoDateTime
    .optional()
    .meta({ description: 'With `?at=`: the instant `facts`, `fingerprint` and `fingerprints` describe.' }),
  historyStartsAt: isoDateTime
    .optional()
    .meta({ description: 'With `?at=`: where the host’s stored history starts (earlier instants answer 409).' }),
});

export const baselineAtSchema = baselineResponseSchema.extend({
  at: isoDateTime.optional().meta({ description: 'With `?at=`: the instant the baseline describes.' }),
  hostsLeftOut: z
    .number()
    .int()
    .optional()
    .meta({
      description:
        'With `?at=`: hosts of the environment whose stored history starts after `at` (they reported later, or older ' +
        'history was folded): not part of this baseline.',
    }),
});

export const compareAtSchema = compareResponseSchema.extend({
  fromAt: isoDateTime.nullable().optional().meta({ description: 'The instant of the `from` side; null: now.' }),
  toAt: isoDateTime.nullable().optional().meta({ description: 'The instant of the `to` side; null: now.' }),
});

export const feedChangeSchema = z.object({
  at: isoDateTime,
  hostId: z.string(),
  seq: z.number().int(),
  path: z.string(),
  from: factValue.optional().meta({ description: 'Absent when the path was added.' }),
  to: factValue.optional().meta({ description: 'Absent when the path was removed.' }),
  emergency: z
    .literal(true)
    .optional()
    .meta({ description: 'The change reached this environment before its upstream ever had the value.' }),
});

export const changeFeedResponseSchema = z.object({
  environment: z.string(),
  changes: z.array(feedChangeSchema),
  next: z.string().nullable().meta({ description: 'Cursor of the next (older) page, for `before`; null at the end.' }),
});
