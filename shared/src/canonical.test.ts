import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalEncode, canonicalValue, factMapsEqual, factValuesEqual } from './canonical.js';
import type { FactMap, FactValue } from './facts.js';

// Few distinct values, so equal pairs come up often; -0 and 0 encode alike.
const scalar = fc.oneof(
  fc.constantFrom('a', 'b', '1', '["a"]', '', 'é'),
  fc.constantFrom(1, 0, -0, 1.5, 2),
  fc.boolean(),
  fc.constant(null),
);
const value: fc.Arbitrary<FactValue> = fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }));
const map: fc.Arbitrary<FactMap> = fc.dictionary(fc.constantFrom('os.a', 'os.b', 'os.c'), value, { maxKeys: 3 });

describe('equality without encoding agrees with the canonical encoding', () => {
  it('factValuesEqual(a, b) exactly when the canonical texts are equal', () => {
    let equal = 0;
    fc.assert(
      fc.property(value, value, (a, b) => {
        const expected = canonicalValue(a) === canonicalValue(b);
        if (expected) equal++;
        expect(factValuesEqual(a, b)).toBe(expected);
      }),
      { numRuns: 5000 },
    );
    expect(equal).toBeGreaterThan(200);
  });

  it('factMapsEqual(a, b) exactly when the canonical encodings are equal, whatever the key order', () => {
    let equal = 0;
    fc.assert(
      fc.property(map, map, fc.boolean(), (a, b, reverse) => {
        const other = reverse ? Object.fromEntries(Object.entries(b).reverse()) : b;
        const expected = canonicalEncode(a) === canonicalEncode(other);
        if (expected) equal++;
        expect(factMapsEqual(a, other)).toBe(expected);
      }),
      { numRuns: 5000 },
    );
    expect(equal).toBeGreaterThan(100);
  });

  it('tells undefined (a missing path) from every value', () => {
    expect(factValuesEqual(undefined, undefined)).toBe(true);
    expect(factValuesEqual(undefined, null)).toBe(false);
    expect(factValuesEqual([], undefined)).toBe(false);
    expect(factValuesEqual(['a'], '["a"]')).toBe(false);
  });
});
