import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FactMap } from './facts.js';
import { FINGERPRINT_VERSION, fingerprintFacts, fingerprintMap } from './fingerprint.js';
import { factPath } from './paths.js';

const base: FactMap = {
  'os.distro.id': 'debian',
  'os.distro.version': '12',
  'os.kernel.release': '6.1.0-18-amd64',
  'library.dpkg.openssl': '3.0.11-1~deb12u2',
  'config.env.LOG_LEVEL': 'info',
  'network.dns.nameservers': ['10.0.0.2', '10.0.0.3'],
  'host.hostname': 'web-1',
  'os.uptime': 1234,
  'hardware.memory.free': 1_000_000,
  'hardware.cpu.cores': 8,
};

describe('fingerprintFacts', () => {
  it('has a version prefix and one fingerprint per category with behavior facts', () => {
    const fp = fingerprintFacts(base);
    expect(fp.overall).toMatch(new RegExp(`^${FINGERPRINT_VERSION}:[0-9a-f]{64}$`));
    expect(Object.keys(fp.categories).sort()).toEqual(['config', 'library', 'network', 'os']);
  });

  it('ignores identity, volatile and scale facts', () => {
    const other = {
      ...base,
      'host.hostname': 'web-2',
      'os.uptime': 99,
      'hardware.memory.free': 5,
      'hardware.cpu.cores': 64,
    };
    expect(fingerprintFacts(other)).toEqual(fingerprintFacts(base));
  });

  it('changes when a behavior fact changes, only in that category', () => {
    const a = fingerprintFacts(base);
    const b = fingerprintFacts({ ...base, 'config.env.LOG_LEVEL': 'debug' });
    expect(b.overall).not.toBe(a.overall);
    expect(b.categories.config).not.toBe(a.categories.config);
    expect(b.categories.os).toBe(a.categories.os);
  });

  it('tells a number from a string and array order from another', () => {
    expect(fingerprintMap({ 'a.b': 1 })).not.toBe(fingerprintMap({ 'a.b': '1' }));
    expect(fingerprintMap({ 'a.b': [1, 2] })).not.toBe(fingerprintMap({ 'a.b': [2, 1] }));
  });

  it('is a stable known value (format guard)', () => {
    expect(fingerprintMap({})).toBe(
      `${FINGERPRINT_VERSION}:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855`,
    );
  });
});

describe('fingerprint invariance (property)', () => {
  const value = fc.oneof(
    fc.string(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.string(), { maxLength: 3 }),
  );
  const behaviorPath = fc
    .tuple(
      fc.constantFrom('os', 'library', 'config', 'runtime', 'app', 'network'),
      fc.string({ minLength: 1 }),
      fc.string(),
    )
    .map(([category, a, b]) => factPath(category, a, b));
  const behaviorFacts = fc.dictionary(behaviorPath, value, { maxKeys: 30 });

  it('does not depend on key order', () => {
    fc.assert(
      fc.property(behaviorFacts, fc.integer(), (facts, seed) => {
        const entries = Object.entries(facts);
        const shuffled = entries
          .map((entry, i) => ({ entry, key: (i * 7919 + seed) % (entries.length + 1) }))
          .sort((x, y) => x.key - y.key)
          .map((x) => x.entry);
        expect(fingerprintFacts(Object.fromEntries(shuffled))).toEqual(fingerprintFacts(facts));
      }),
    );
  });

  it('does not depend on identity or volatile facts or collection time', () => {
    fc.assert(
      fc.property(behaviorFacts, fc.string(), fc.nat(), fc.nat(), (facts, hostname, uptime, free) => {
        const noisy = {
          ...facts,
          'host.hostname': hostname,
          'os.uptime': uptime,
          'hardware.memory.free': free,
          'hardware.load.1': uptime / 100,
        };
        expect(fingerprintFacts(noisy)).toEqual(fingerprintFacts(facts));
      }),
    );
  });
});
