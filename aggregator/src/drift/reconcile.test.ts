import { describe, expect, it } from 'vitest';
import { type DriftItem, driftKey, reconcileDrift } from './reconcile.js';

const a: DriftItem = {
  kind: 'outlier',
  environment: 'production',
  hostId: 'p3',
  path: 'config.env.A',
  expected: '1',
  actual: '2',
};
const b: DriftItem = {
  kind: 'environment',
  environment: 'staging',
  otherEnvironment: 'production',
  path: 'library.dpkg.openssl',
};
const c: DriftItem = { kind: 'outlier', environment: 'staging', hostId: 's1', path: 'config.env.B' };

describe('reconcileDrift', () => {
  it('opens new differences and resolves gone ones', () => {
    const open = [{ key: driftKey(a), item: a }];
    const result = reconcileDrift(open, [b], () => true);
    expect(result.opened).toEqual([b]);
    expect(result.resolved).toEqual([driftKey(a)]);
  });

  it('keeps an event open while its difference holds, even when values change', () => {
    const result = reconcileDrift([{ key: driftKey(a), item: a }], [{ ...a, actual: '3' }], () => true);
    expect(result).toEqual({ opened: [], resolved: [] });
  });

  it('never resolves events outside the evaluated scope', () => {
    const open = [a, c].map((item) => ({ key: driftKey(item), item }));
    const result = reconcileDrift(open, [], (item) => item.environment === 'production');
    expect(result.resolved).toEqual([driftKey(a)]);
  });
});
