import { describe, expect, it } from 'vitest';
import { downstreamOf, environmentPairs, upstreamOf } from './environment-pairs.js';

describe('environmentPairs', () => {
  it('pairs promotion neighbours whose both sides exist', () => {
    expect(environmentPairs(['production', 'dev', 'staging', 'qa'], ['dev', 'staging', 'production'])).toEqual([
      { from: 'dev', to: 'staging' },
      { from: 'staging', to: 'production' },
    ]);
    expect(environmentPairs(['dev', 'production'], ['dev', 'staging', 'production'])).toEqual([]);
  });

  // Every-two pairing is gone: N environments without a promotion made N² pair comparisons
  // (1.5 M events for 150 preview environments). Only neighbours and configured pairs are compared.
  it('pairs nothing without a promotion order or configured pairs', () => {
    expect(environmentPairs(['c', 'a', 'b'], [])).toEqual([]);
  });

  it('adds configured pairs whose both sides exist, once, after the promotion neighbours', () => {
    expect(
      environmentPairs(
        ['dev', 'staging', 'pr-1', 'pr-2'],
        ['dev', 'staging'],
        [
          ['pr-1', 'staging'],
          ['staging', 'pr-1'],
          ['staging', 'dev'],
          ['pr-2', 'gone'],
        ],
      ),
    ).toEqual([
      { from: 'dev', to: 'staging' },
      { from: 'pr-1', to: 'staging' },
    ]);
  });

  it('knows each environment’s neighbours', () => {
    const promotion = ['dev', 'staging', 'production'];
    expect(upstreamOf('production', promotion)).toBe('staging');
    expect(upstreamOf('dev', promotion)).toBeUndefined();
    expect(upstreamOf('qa', promotion)).toBeUndefined();
    expect(downstreamOf('staging', promotion)).toBe('production');
    expect(downstreamOf('production', promotion)).toBeUndefined();
  });
});
