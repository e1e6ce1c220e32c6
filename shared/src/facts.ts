/**
 * The fact model: a flat map `path -> value` plus metadata about who collected it and how.
 * Flat paths keep diffing, deltas, exception globs, fleet queries and storage simple.
 */
import { z } from 'zod';

/** The first segment of every fact path. */
export const CATEGORIES = [
  'os',
  'hardware',
  'runtime',
  'library',
  'app',
  'config',
  'network',
  'container',
  'probe',
  'host',
  /** The application's own processes (`watch.processes`): their env, argv, executable, user, limits. */
  'process',
] as const;
export type Category = (typeof CATEGORIES)[number];

export function isCategory(value: string): value is Category {
  return (CATEGORIES as readonly string[]).includes(value);
}

/**
 * Environment names, wherever they are given (agent config, protocol, aggregator config, API):
 * letters, digits, `_` and `-`, so they are safe in URLs, labels and file names alike.
 */
export const ENVIRONMENT_NAME_PATTERN = /^[A-Za-z0-9_-]+$/;
export const environmentNameSchema = z
  .string()
  .regex(ENVIRONMENT_NAME_PATTERN, 'environment names are letters, digits, _ and -');

/** Values are scalars or short arrays of scalars (DNS resolvers, SANs, CPU flags). */
export const factScalarSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export const factValueSchema = z.union([factScalarSchema, z.array(factScalarSchema)]);
export type FactScalar = z.infer<typeof factScalarSchema>;
export type FactValue = z.infer<typeof factValueSchema>;

/** A flat fact map: path -> value. */
export const factMapSchema = z.record(z.string(), factValueSchema);
export type FactMap = Record<string, FactValue>;

/** The empty fact map, frozen: what a missing category holds. */
export const EMPTY_FACTS: Readonly<FactMap> = Object.freeze({});

/** `record[key]` for own keys only: a category named `constructor` must never read Object.prototype. */
export function ownValue<T>(record: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

/** How one collector did: its duration, how many facts it produced, and its error if it failed. */
export const collectorReportSchema = z.object({
  name: z.string(),
  durationMs: z.number().nonnegative(),
  facts: z.number().int().nonnegative(),
  error: z.string().optional(),
  timedOut: z.boolean().optional(),
});
export type CollectorReport = z.infer<typeof collectorReportSchema>;

export const FACT_DOCUMENT_SCHEMA_VERSION = 1;

/** A whole collection pass of one host. */
export const factDocumentSchema = z.object({
  schema: z.literal(FACT_DOCUMENT_SCHEMA_VERSION),
  hostId: z.string().min(1),
  environment: z.string().optional(),
  labels: z.record(z.string(), z.string()),
  agentVersion: z.string(),
  collectedAt: z.string(),
  durationMs: z.number().nonnegative(),
  facts: factMapSchema,
  collectors: z.array(collectorReportSchema),
  errors: z.array(z.object({ collector: z.string(), message: z.string() })),
});
export type FactDocument = z.infer<typeof factDocumentSchema>;

/** Splits a flat map into one map per category (first path segment). */
export function groupByCategory(facts: FactMap, categoryOf: (path: string) => string): Map<string, FactMap> {
  const groups = new Map<string, FactMap>();
  for (const [path, value] of Object.entries(facts)) {
    const category = categoryOf(path);
    let group = groups.get(category);
    if (!group) {
      group = {};
      groups.set(category, group);
    }
    group[path] = value;
  }
  return groups;
}
