import { describe, expect, it } from 'vitest';
import { createSecretHasher } from '../secrets.js';
import { formatFromName } from './config-files.js';
import {
  escapeKey,
  flattenInto,
  MAX_ARRAY_VALUE_ITEMS,
  MAX_FACTS_PER_DOCUMENT,
  MAX_STRING_CHARS,
  sha256Hex,
  toScalar,
} from './config-flatten.js';

const secrets = createSecretHasher('k', ['*PASSWORD*', '*SECRET*', '*TOKEN*', '*_KEY']);
const flat = (value: unknown, secret = false) => {
  const out = {};
  flattenInto(out, ['p'], value, { secrets, secret, rootScalarKey: '#value' });
  return out;
};

describe('config-flatten', () => {
  it('hashes every leaf under a secret-named key, at any depth, keeping the key names', () => {
    expect(flat({ Secrets: { db: 'x', list: ['a', 'b'], nested: [{ v: 1 }] }, plain: 'y' })).toEqual({
      'p.Secrets.db': secrets.hash('x'),
      'p.Secrets.list': secrets.hash('["a","b"]'),
      'p.Secrets.nested.0.v': secrets.hash('1'),
      'p.plain': 'y',
    });
    // a number hashes like its text, so `password: 1234` (YAML) equals PASSWORD=1234 (.env)
    expect(flat({ password: 1234 })).toEqual({ 'p.password': secrets.hash('1234') });
    expect(flat('whole', true)).toEqual({ 'p["#value"]': secrets.hash('whole') });
  });

  it('keeps values short: long strings and long arrays', () => {
    const long = 'x'.repeat(MAX_STRING_CHARS + 1);
    expect(flat({ s: long })).toEqual({ 'p.s': `sha256:${sha256Hex(long)}` });
    const many = Array.from({ length: MAX_ARRAY_VALUE_ITEMS + 1 }, (_, i) => i);
    const out = flat({ many }) as Record<string, unknown>;
    expect(out['p.many.0']).toBe(0);
    expect(out[`p.many.${MAX_ARRAY_VALUE_ITEMS}`]).toBe(MAX_ARRAY_VALUE_ITEMS);
    expect(flat({ mixed: [1, { a: 2 }] })).toEqual({ 'p.mixed.0': 1, 'p.mixed.1.a': 2 });
  });

  it('caps the number of facts per document', () => {
    const big = Object.fromEntries(Array.from({ length: MAX_FACTS_PER_DOCUMENT + 3 }, (_, i) => [`k${i}`, i]));
    const out = flat(big) as Record<string, unknown>;
    expect(Object.keys(out)).toHaveLength(MAX_FACTS_PER_DOCUMENT + 1);
    expect(out['p["#truncated"]']).toBe(MAX_FACTS_PER_DOCUMENT + 3);
  });

  it('converts leaves JSON cannot carry', () => {
    expect(toScalar(Number.POSITIVE_INFINITY)).toBe('inf');
    expect(toScalar(Number.NEGATIVE_INFINITY)).toBe('-inf');
    expect(toScalar(Number.NaN)).toBe('nan');
    expect(toScalar(12n)).toBe(12);
    expect(toScalar(2n ** 64n)).toBe('18446744073709551616');
    expect(toScalar(new Date('2020-01-02T03:04:05Z'))).toBe('2020-01-02T03:04:05.000Z');
  });

  it('escapes keys that look like markers, and keys with dots stay one segment', () => {
    expect(escapeKey('#sha256')).toBe('##sha256');
    expect(escapeKey('##x')).toBe('###x');
    expect(flat({ '#missing': true, 'a.b': 1, '': 2 })).toEqual({
      'p["##missing"]': true,
      'p["a.b"]': 1,
      'p[""]': 2,
    });
  });

  it('detects the format from the file name', () => {
    expect(formatFromName('/etc/app/config.JSON')).toBe('json');
    expect(formatFromName('a.yml')).toBe('yaml');
    expect(formatFromName('/srv/.env')).toBe('env');
    expect(formatFromName('/srv/.env.production')).toBe('env');
    expect(formatFromName('/srv/app.env')).toBe('env');
    expect(formatFromName('php.ini')).toBe('ini');
    expect(formatFromName('Cargo.toml')).toBe('toml');
    expect(formatFromName('/etc/nginx/nginx.conf')).toBeUndefined();
  });
});
