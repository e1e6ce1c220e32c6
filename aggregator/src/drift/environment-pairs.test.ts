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

  it('pairs every two environments, by name, without a promotion order', () => {
    expect(environmentPairs(['c', 'a', 'b'], [])).toEqual([
      { from: 'a', to: 'b' },
      { from: 'a', to: 'c' },
      { from: 'b', to: 'c' },
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
