import {
  categoryOf,
  createClassifier,
  type FactMap,
  fingerprintFacts,
  formatPath,
  groupByCategory,
} from '@envparity/shared';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { behaviorEncoding, composeFingerprints } from './compose-fingerprints.js';

const classify = createClassifier([{ glob: 'probe.**.rows', class: 'scale' }]);

function pieces(facts: FactMap) {
  return [...groupByCategory(facts, categoryOf)].map(([category, categoryFacts]) => ({
    category,
    facts: categoryFacts,
    encoding: behaviorEncoding(categoryFacts, classify),
  }));
}

const segment = fc.oneof(
  fc.constantFrom('distro', 'id', 'openssl', 'zope.interface', '/etc/app.yaml', 'a b', 'é', 'uptime', 'rows', 'x-1'),
  fc.string({ minLength: 1, maxLength: 6 }),
);
const category = fc.constantFrom('os', 'os2', 'os-x', 'library', 'host', 'hardware', 'probe', 'config', 'app');
const value = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(fc.string({ maxLength: 4 }), fc.integer()), { maxLength: 3 }),
);
const factMap = fc
  .array(fc.tuple(category, fc.array(segment, { minLength: 0, maxLength: 3 }), value), { maxLength: 25 })
  .map((entries) => Object.fromEntries(entries.map(([c, rest, v]) => [formatPath([c, ...rest]), v])) as FactMap);

describe('composeFingerprints', () => {
  it('equals fingerprintFacts over the merged facts', () => {
    fc.assert(
      fc.property(factMap, (facts) => {
        const { overall, categories } = fingerprintFacts(facts, classify);
        const composed = composeFingerprints(pieces(facts), classify);
        if (Object.keys(facts).length === 0) expect(composed.fingerprint).toBeNull();
        else expect(composed).toEqual({ fingerprint: overall, fingerprints: categories });
      }),
      { numRuns: 500 },
    );
  });

  it('handles hosts without behavior facts and without categories', () => {
    const onlyIdentity = { 'host.hostname': 'web-1' };
    expect(composeFingerprints(pieces(onlyIdentity), classify)).toEqual({
      fingerprint: fingerprintFacts(onlyIdentity).overall,
      fingerprints: {},
    });
    expect(composeFingerprints([], classify)).toEqual({ fingerprint: null, fingerprints: {} });
  });
});
