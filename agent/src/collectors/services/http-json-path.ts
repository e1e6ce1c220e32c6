/**
 * The small JSON path of `versionJsonPath`: `$`, then `.name` and `[index]` steps (`$.version`,
 * `$.build.version`, `$.items[0].v`), the grammar config-services.ts accepts. No wildcards, no
 * filters: a version is one value at one place.
 */

export type JsonPathStep = string | number;

const STEP = /\.([A-Za-z_$][A-Za-z0-9_$-]*)|\[(\d+)\]/y;

/** `$.a[0].b` -> ['a', 0, 'b']; throws on anything else. */
export function parseJsonPath(path: string): JsonPathStep[] {
  if (!path.startsWith('$')) throw new Error(`a JSON path starts with $: ${JSON.stringify(path)}`);
  const steps: JsonPathStep[] = [];
  STEP.lastIndex = 1;
  while (STEP.lastIndex < path.length) {
    const at = STEP.lastIndex;
    const match = STEP.exec(path);
    if (!match) throw new Error(`unexpected ${JSON.stringify(path.slice(at))} in JSON path ${JSON.stringify(path)}`);
    steps.push(match[1] ?? Number(match[2]));
  }
  return steps;
}

/** The value at `path` in `document`, or `{ found: false }` when a step leads nowhere. */
export function evaluateJsonPath(document: unknown, path: string): { found: true; value: unknown } | { found: false } {
  let current: unknown = document;
  for (const step of parseJsonPath(path)) {
    if (typeof step === 'number') {
      if (!Array.isArray(current) || step >= current.length) return { found: false };
      current = current[step];
    } else {
      if (current === null || typeof current !== 'object' || Array.isArray(current) || !Object.hasOwn(current, step)) {
        return { found: false };
      }
      current = (current as Record<string, unknown>)[step];
    }
  }
  return { found: true, value: current };
}
