/**
 * The aggregator lets V8's old space grow by 20% over what a full GC left, instead of V8's own
 * factor (up to 4x for a fast-allocating process). The fleet state is long-lived and large, and the
 * storm of a fleet's first reports allocates fast: with V8's factor the heap of 10,000 hosts peaked
 * at 689 MB and stayed at 457 MB for ~200 MB of live data; with 1.2 it peaked at 424 MB and stayed
 * at 422 MB, for +0.5 point of a core at steady state (`npm run bench:fleet`, docs/BENCHMARKS.md).
 * An operator's own `--heap-growing-percent` is left as given.
 */
import { setFlagsFromString } from 'node:v8';
import { nodeFlagGiven } from '@envparity/shared';

export const HEAP_GROWING_PERCENT = 20;

/** The flag to set, or none when the operator set the factor themselves. */
export function heapGrowthFlag(execArgv: readonly string[], nodeOptions: string | undefined): string | undefined {
  return nodeFlagGiven(['heap-growing-percent'], execArgv, nodeOptions)
    ? undefined
    : `--heap-growing-percent=${HEAP_GROWING_PERCENT}`;
}

/** Sets it in this process (V8 reads it at every full GC, when it sizes the next limit). */
export function applyHeapGrowth(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string | undefined = process.env.NODE_OPTIONS,
): string | undefined {
  const flag = heapGrowthFlag(execArgv, nodeOptions);
  if (flag) setFlagsFromString(flag);
  return flag;
}
