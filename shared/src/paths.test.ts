import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PathSyntaxError } from './errors.js';
import { categoryOf, factPath, formatPath, isValidPath, parsePath } from './paths.js';

describe('formatPath', () => {
  it('writes bare segments joined by dots', () => {
    expect(formatPath(['library', 'dpkg', 'libssl3'])).toBe('library.dpkg.libssl3');
    expect(factPath('app', '/srv/app', 'npm', '@babel/core')).toBe('app./srv/app.npm.@babel/core');
  });

  it('quotes segments holding dots, spaces, quotes and brackets', () => {
    expect(factPath('config', 'file', '/etc/myapp/config.yaml', 'db', 'host')).toBe(
      'config.file["/etc/myapp/config.yaml"].db.host',
    );
    expect(factPath('library', 'pip', 'zope.interface')).toBe('library.pip["zope.interface"]');
    expect(factPath('a', 'b c', 'say "hi"', '[x]')).toBe('a["b c"]["say \\"hi\\""]["[x]"]');
    expect(factPath('a', '')).toBe('a[""]');
  });

  it('rejects an empty segment list', () => {
    expect(() => formatPath([])).toThrow(PathSyntaxError);
  });
});

describe('parsePath', () => {
  it('splits bare and quoted segments', () => {
    expect(parsePath('config.file["/etc/myapp/config.yaml"].db.host')).toEqual([
      'config',
      'file',
      '/etc/myapp/config.yaml',
      'db',
      'host',
    ]);
    expect(parsePath('a["b.c"]["d"]')).toEqual(['a', 'b.c', 'd']);
  });

  it.each([
    ['', 'empty path'],
    ['a..b', 'empty segment'],
    ['a.', 'empty segment'],
    ['a.["b"]', '"." before "["'],
    ['a[b]', `expected '"'`],
    ['a["b"', 'expected "]"'],
    ['a["b', 'unterminated'],
    ['a b', 'unexpected character'],
    ['a*', 'unexpected character'],
  ])('rejects %j with a message naming the problem (%s)', (path, message) => {
    expect(() => parsePath(path)).toThrow(message);
    expect(isValidPath(path)).toBe(false);
  });

  it('accepts glob characters only when asked', () => {
    expect(parsePath('config.env.FEATURE_*', '*?')).toEqual(['config', 'env', 'FEATURE_*']);
  });
});

describe('categoryOf', () => {
  it('returns the first segment', () => {
    expect(categoryOf('library.dpkg.openssl')).toBe('library');
    expect(categoryOf('config["x.y"]')).toBe('config');
    expect(categoryOf('os')).toBe('os');
  });
});

describe('path round-trip (property)', () => {
  const segment = fc.oneof(
    fc.string(),
    fc.constantFrom(
      '.',
      '/',
      '@',
      ' ',
      '"',
      "'",
      '[',
      ']',
      '\\',
      '*',
      '?',
      '..',
      '["x"]',
      'a.b',
      '@scope/pkg',
      '/etc/x.conf',
    ),
    fc.string({ unit: 'grapheme' }),
  );

  it('parsePath(formatPath(s)) equals s for any segments', () => {
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 6 }), (segments) => {
        expect(parsePath(formatPath(segments))).toEqual(segments);
      }),
      { numRuns: 2000 },
    );
  });

  it('formatting is injective: different segment lists give different paths', () => {
    fc.assert(
      fc.property(
        fc.array(segment, { minLength: 1, maxLength: 4 }),
        fc.array(segment, { minLength: 1, maxLength: 4 }),
        (a, b) => {
          fc.pre(JSON.stringify(a) !== JSON.stringify(b));
          expect(formatPath(a)).not.toBe(formatPath(b));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
