import { factPath, MAX_VALUE_BYTES } from '@envparity/shared';
import { describe, expect, it } from 'vitest';
import { enforceFactBounds, hashedValue } from './fact-bounds.js';

describe('enforceFactBounds', () => {
  it('hashes values over 64 KB, in the pass and in its collector map, and says so in the errors', () => {
    const long = 'x'.repeat(MAX_VALUE_BYTES + 1);
    const part = { 'config.a': long, 'config.b': 'short' };
    const facts = { ...part };
    const errors = enforceFactBounds(facts, [part]);
    expect(facts['config.a']).toBe(hashedValue(long));
    expect(facts['config.a']).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(part['config.a']).toBe(facts['config.a']);
    expect(facts['config.b']).toBe('short');
    expect(errors).toEqual([
      { collector: 'bounds', message: expect.stringContaining('1 value(s) over 65536 bytes sent as sha256:<hex>') },
    ]);
  });

  it('past the per-host path cap, refuses the largest categories whole with an error fact', () => {
    const app: Record<string, string> = {};
    for (let i = 0; i < 30; i++) app[`app.p${i}`] = '1';
    const os = { 'os.a': 'x', 'os.b': 'y' };
    const facts: Record<string, string> = { ...app, ...os };
    const parts: Record<string, string>[] = [app, { ...os }];
    const errors = enforceFactBounds(facts, parts, { maxPaths: 10 });
    const marker = factPath('app', '#refused');
    expect(facts).toEqual({ ...os, [marker]: '30 paths: over the per-host cap of 10 paths, category not sent' });
    expect(parts[0]).toEqual({ [marker]: facts[marker] });
    expect(errors[0]?.message).toContain('category app refused');
  });

  it('leaves a pass within bounds alone', () => {
    const facts = { 'os.a': 'x' };
    expect(enforceFactBounds(facts, [facts])).toEqual([]);
    expect(facts).toEqual({ 'os.a': 'x' });
  });
});
