import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DAEMON_V8_FLAGS, daemonV8Flags } from './daemon-v8-flags.js';

describe('daemonV8Flags', () => {
  it('turns the optimizing tiers off by default', () => {
    expect(daemonV8Flags([], undefined)).toEqual(DAEMON_V8_FLAGS);
    expect(daemonV8Flags(['--enable-source-maps'], '--max-old-space-size=96')).toEqual(DAEMON_V8_FLAGS);
  });

  it("leaves the operator's own tier flags alone, on the command line or in NODE_OPTIONS", () => {
    expect(daemonV8Flags(['--turbofan'], undefined)).toEqual([]);
    expect(daemonV8Flags([], '--max-old-space-size=96 --opt')).toEqual([]);
    expect(daemonV8Flags([], '--jitless')).toEqual([]);
    expect(daemonV8Flags(['--no-sparkplug'], '')).toEqual([]);
    // A flag that only starts like one is not one.
    expect(daemonV8Flags(['--optimize-for-size'], '--opt-foo')).toEqual(DAEMON_V8_FLAGS);
  });

  it('takes effect when set at run time: a hot function stays unoptimized', () => {
    // %GetOptimizationStatus bit 16 (1 << 4) = "optimized by TurboFan". Measured in a child Node
    // so this test process keeps its own flags.
    const script = `
      const { setFlagsFromString } = require('node:v8');
      if (process.argv[1] === 'daemon') for (const f of ${JSON.stringify(DAEMON_V8_FLAGS)}) setFlagsFromString(f);
      function hot(x) { return x * 2 + 1; }
      let sum = 0;
      for (let i = 0; i < 2e7; i++) sum += hot(i);
      console.log((%GetOptimizationStatus(hot) & 16) !== 0);`;
    const optimized = (mode: string) =>
      execFileSync(process.execPath, ['--allow-natives-syntax', '-e', script, mode], { encoding: 'utf8' }).trim();
    expect(optimized('default')).toBe('true');
    expect(optimized('daemon')).toBe('false');
  });
});
