/**
 * Classes an agent declares for its own probes (`watch.probes[].class`): the probe is written on
 * the agent, so that is where its author says its numbers are sizes. The agent sends one rule per
 * probe with a class in its `hello` (`classes`); the aggregator accepts only rules under
 * `probe.<literal name>` and keeps one class per path fleet-wide (aggregator/src/classes/).
 * `identity` cannot be declared: hiding a probe from every comparison is the aggregator's call.
 */
import { z } from 'zod';
import type { FactClass } from './classes.js';
import { MAX_GLOB_LENGTH } from './glob.js';
import { parsePath } from './paths.js';

export const DECLARABLE_CLASSES = ['behavior', 'scale', 'volatile'] as const satisfies readonly FactClass[];
export type DeclarableClass = (typeof DECLARABLE_CLASSES)[number];
export const declarableClassSchema = z.enum(DECLARABLE_CLASSES);

/** Most class rules one `hello` may carry (one per probe with a class). */
export const MAX_DECLARED_CLASSES = 1000;

/** Probe names, as the agent config allows them: always a bare path segment. */
export const PROBE_NAME = /^[A-Za-z0-9_-]+$/;

/**
 * One declared rule on the wire. Not strict, so a later agent may add fields an older
 * aggregator ignores; the glob's shape is checked by the aggregator (declaredProbeName).
 */
export const declaredClassRuleSchema = z.object({
  glob: z.string().min(1).max(MAX_GLOB_LENGTH),
  class: declarableClassSchema,
});
export type DeclaredClassRule = z.infer<typeof declaredClassRuleSchema>;

/** The rules an agent declares: `probe.<name>.**` (which also matches `probe.<name>` itself) per probe with a class. */
export function probeClassRules(
  probes: readonly { name: string; class?: DeclarableClass | undefined }[],
): DeclaredClassRule[] {
  const rules: DeclaredClassRule[] = [];
  for (const probe of probes) {
    // Names are bare segments (PROBE_NAME), so the glob needs no quoting.
    if (probe.class !== undefined) rules.push({ glob: `probe.${probe.name}.**`, class: probe.class });
  }
  return rules;
}

/**
 * The probe a declared glob is about, or undefined when the glob is not under `probe.<name>`
 * with a literal name (no wildcard in the first two segments) or is not a valid glob path.
 */
export function declaredProbeName(glob: string): string | undefined {
  let segments: string[];
  try {
    segments = parsePath(glob, '*?');
  } catch {
    return undefined;
  }
  const [category, name] = segments;
  if (category !== 'probe' || name === undefined || !PROBE_NAME.test(name)) return undefined;
  return name;
}

/** `probe.<name>.error`: a failed probe's message, which a declared class never covers (a failure is no size). */
export function isProbeErrorPath(segments: readonly string[], probeName: string): boolean {
  return segments.length === 3 && segments[0] === 'probe' && segments[1] === probeName && segments[2] === 'error';
}
