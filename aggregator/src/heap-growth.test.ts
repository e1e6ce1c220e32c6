import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { HEAP_GROWING_PERCENT, heapGrowthFlag } from './heap-growth.js';

describe('heapGrowthFlag', () => {
  it("sets V8's heap growing factor unless the operator did", () => {
    expect(heapGrowthFlag([], undefined)).toBe(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
    expect(heapGrowthFlag(['--heap-growing-percent=50'], undefined)).toBeUndefined();
    expect(heapGrowthFlag([], '--max-old-space-size=2048 --heap_growing_percent=100')).toBeUndefined();
  });

  it("names a flag this Node's V8 knows (setFlagsFromString would ignore a misspelt one)", () => {
    const run = (flag: string) =>
      spawnSync(process.execPath, [flag, '-e', '0'], { encoding: 'utf8' }) as { status: number; stderr: string };
    expect(run(heapGrowthFlag([], undefined) as string).status).toBe(0);
    // The check can fail: a flag V8 does not know stops Node at once.
    expect(run('--heap-growing-percentage=20')).toMatchObject({ status: 9 });
  });
});
