import { describe, expect, it } from 'vitest';
import { snapshotOf, testClassifier } from '../../testing/drift-hosts.js';
import { computeBaseline } from './baseline.js';
import { findOutliers } from './outliers.js';

const common = { 'os.distro.id': 'debian', 'library.dpkg.openssl': '3.0.13', 'hardware.cpu.cores': 8 };

describe('computeBaseline', () => {
  it('takes the dominant value of each compared path and leaves identity/volatile out', () => {
    const hosts = [
      snapshotOf('p1', 'production', {
        ...common,
        'config.env.LOG_LEVEL': 'info',
        'host.hostname': 'p1',
        'os.uptime': 1,
      }),
      snapshotOf('p2', 'production', {
        ...common,
        'config.env.LOG_LEVEL': 'info',
        'host.hostname': 'p2',
        'os.uptime': 2,
      }),
      snapshotOf('p3', 'production', {
        ...common,
        'config.env.LOG_LEVEL': 'debug',
        'host.hostname': 'p3',
        'os.uptime': 3,
      }),
    ];
    const baseline = computeBaseline('production', hosts, testClassifier);
    expect(baseline.facts).toEqual({ ...common, 'config.env.LOG_LEVEL': 'info' });
    expect(baseline.support['config.env.LOG_LEVEL']).toBe(2);
    expect(baseline.ties).toEqual([]);
    expect(baseline.hosts).toBe(3);
    expect(baseline.stale).toBe(false);
    expect(baseline.fingerprint).toMatch(/^ep1:/);
  });

  it('reports ties instead of breaking them, including "missing" as a candidate', () => {
    const hosts = [
      snapshotOf('a', 'staging', { ...common, 'config.env.A': 'x', 'config.env.B': '1' }),
      snapshotOf('b', 'staging', { ...common, 'config.env.A': 'y' }),
    ];
    const baseline = computeBaseline('staging', hosts, testClassifier);
    expect(baseline.facts).toEqual(common);
    expect(baseline.ties).toEqual([
      {
        path: 'config.env.A',
        candidates: [
          { value: 'x', hosts: 1 },
          { value: 'y', hosts: 1 },
        ],
      },
      { path: 'config.env.B', candidates: [{ value: '1', hosts: 1 }, { hosts: 1 }] },
    ]);
  });

  it('drops paths most hosts lack and uses only live hosts unless none is live', () => {
    const hosts = [
      snapshotOf('a', 'e', { 'config.env.A': 'x' }),
      snapshotOf('b', 'e', { 'config.env.B': 'y' }),
      snapshotOf('c', 'e', { 'config.env.B': 'y' }),
      snapshotOf('d', 'e', { 'config.env.B': 'z' }, false),
    ];
    expect(computeBaseline('e', hosts, testClassifier).facts).toEqual({ 'config.env.B': 'y' });
    const offline = hosts.map((h) => ({ ...h, online: false }));
    const stale = computeBaseline('e', offline, testClassifier);
    expect(stale.stale).toBe(true);
    expect(stale.hosts).toBe(4);
  });
});

describe('findOutliers', () => {
  it('lists the hosts off the baseline, path by path', () => {
    const hosts = [
      snapshotOf('p1', 'production', { ...common, 'config.env.LOG_LEVEL': 'info' }),
      snapshotOf('p2', 'production', { ...common, 'config.env.LOG_LEVEL': 'info' }),
      snapshotOf('p3', 'production', {
        ...common,
        'hardware.cpu.cores': 2,
        'config.env.LOG_LEVEL': 'debug',
        'library.dpkg.curl': '7',
      }),
    ];
    const baseline = computeBaseline('production', hosts, testClassifier);
    expect(findOutliers(baseline, hosts, testClassifier)).toEqual([
      { hostId: 'p3', path: 'config.env.LOG_LEVEL', expected: 'info', actual: 'debug', class: 'behavior' },
      { hostId: 'p3', path: 'library.dpkg.curl', actual: '7', class: 'behavior' },
    ]);
    expect(findOutliers(baseline, hosts, testClassifier, { includeScale: true })).toContainEqual({
      hostId: 'p3',
      path: 'hardware.cpu.cores',
      expected: 8,
      actual: 2,
      class: 'scale',
    });
  });

  it('reports a path missing on a host, also when the whole category is missing', () => {
    const hosts = [
      snapshotOf('a', 'e', { 'config.env.A': 'x', 'os.distro.id': 'debian' }),
      snapshotOf('b', 'e', { 'config.env.A': 'x', 'os.distro.id': 'debian' }),
      snapshotOf('c', 'e', { 'os.distro.id': 'debian' }),
    ];
    const baseline = computeBaseline('e', hosts, testClassifier);
    expect(findOutliers(baseline, hosts, testClassifier)).toEqual([
      { hostId: 'c', path: 'config.env.A', expected: 'x', class: 'behavior' },
    ]);
  });
});
