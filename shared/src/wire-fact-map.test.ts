import fc from 'fast-check';
import { pack, unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import {
  isWireFactMap,
  MAX_PATH_LENGTH,
  MAX_VALUE_BYTES,
  strictWireFactMapSchema,
  wireFactMapSchema,
} from './protocol.js';

const scalar = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, undefined, -0),
);
const oddValue = fc.oneof(
  fc.constant(new Date(0)),
  fc.constant(new Map()),
  fc.constant({ nested: 1 }),
  fc.constant(() => 1),
  fc.constant(Symbol('s')),
  fc.bigInt(),
  fc.constant('x'.repeat(MAX_VALUE_BYTES + 1)),
  fc.constant(['é'.repeat(MAX_VALUE_BYTES / 2 + 1)]),
  fc.constant('é'.repeat(MAX_VALUE_BYTES / 2)),
);
const value = fc.oneof(
  { weight: 6, arbitrary: scalar },
  { weight: 3, arbitrary: fc.array(scalar, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.array(fc.oneof(scalar, oddValue), { maxLength: 3 }) },
  { weight: 1, arbitrary: oddValue },
);
const key = fc.oneof(
  { weight: 8, arbitrary: fc.string({ minLength: 1, maxLength: 16 }) },
  { weight: 1, arbitrary: fc.constantFrom('', '__proto__', 'constructor', 'x'.repeat(MAX_PATH_LENGTH + 1)) },
);
/** Plain maps (also as msgpack decodes them), a few with an own `__proto__` key, and a few non-maps. */
const candidate = fc.oneof(
  { weight: 8, arbitrary: fc.dictionary(key, value, { maxKeys: 6 }) },
  {
    weight: 2,
    arbitrary: fc
      .dictionary(key, fc.oneof(scalar, fc.array(scalar, { maxLength: 3 })), { maxKeys: 4 })
      .map((map) => unpack(pack(map))),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      null,
      [],
      ['a'],
      'text',
      7,
      new Date(0),
      new Map([['a', 1]]),
      Object.create(null),
      JSON.parse('{"__proto__": 1, "a": 1}'),
      Object.assign(Object.create({ inherited: 1 }), { a: 1 }),
      { [Symbol('s')]: 1, a: 1 },
    ),
  },
);

describe('wire fact maps: the fast check accepts only what the strict schema accepts', () => {
  it('agrees with strictWireFactMapSchema on random maps, and failures keep the strict messages', () => {
    let accepted = 0;
    let fast = 0;
    let refused = 0;
    fc.assert(
      fc.property(candidate, (input) => {
        const strict = strictWireFactMapSchema.safeParse(input);
        const wrapped = wireFactMapSchema.safeParse(input);
        expect(wrapped.success).toBe(strict.success);
        if (isWireFactMap(input)) {
          fast++;
          expect(strict.success).toBe(true);
        }
        if (strict.success) {
          accepted++;
          // The same map either way: the fast path hands on the input, the strict one its copy.
          expect(wrapped.data).toEqual(strict.data);
        } else {
          refused++;
          expect(wrapped.error?.issues.map((issue) => [issue.path, issue.message])).toEqual(
            strict.error.issues.map((issue) => [issue.path, issue.message]),
          );
        }
      }),
      { numRuns: 3000 },
    );
    // Both sides of the equivalence were exercised.
    expect(accepted).toBeGreaterThan(300);
    expect(refused).toBeGreaterThan(300);
    // The fast path takes nearly every valid map (it declines only odd keys such as an own __proto__).
    expect(fast).toBeGreaterThan(0.9 * accepted);
  });

  it('names the path of an oversize value, as before', () => {
    const result = wireFactMapSchema.safeParse({ 'config.big': 'x'.repeat(MAX_VALUE_BYTES + 1) });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['config.big']);
    expect(result.error?.issues[0]?.message).toMatch(/over the 65536-byte limit/);
  });

  it('leaves out an own __proto__ key as zod does (JSON.parse makes one; msgpackr renames it)', () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": true}, "os.name": "linux"}');
    expect(Object.keys(parsed)).toContain('__proto__');
    const result = wireFactMapSchema.safeParse(parsed);
    expect(result.success).toBe(true);
    expect(Object.keys(result.data ?? {})).toEqual(['os.name']);
  });
});
