import { describe, expect, it } from 'vitest';
import { nodeFlagGiven } from './node-flags.js';

describe('nodeFlagGiven', () => {
  const names = ['opt', 'heap-growing-percent'];
  it('finds a flag in execArgv or NODE_OPTIONS, in any of its spellings', () => {
    expect(nodeFlagGiven(names, ['--opt'], undefined)).toBe(true);
    expect(nodeFlagGiven(names, ['--no-opt'], undefined)).toBe(true);
    expect(nodeFlagGiven(names, [], '--max-old-space-size=96 --heap_growing_percent=50')).toBe(true);
    expect(nodeFlagGiven(names, [], '  --heap-growing-percent=10  ')).toBe(true);
  });
  it('does not mistake a longer flag or a value for one', () => {
    expect(nodeFlagGiven(names, ['--optimize-for-size', '--opt-foo'], 'opt --title=--opt')).toBe(false);
    expect(nodeFlagGiven(names, [], undefined)).toBe(false);
  });
});
