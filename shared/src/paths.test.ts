import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PathSyntaxError } from './errors.js';
import { canonicalPath, categoryOf, factPath, formatPath, isCanonicalPath, isValidPath, parsePath } from './paths.js';

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

describe('canonicalPath', () => {
  it.each([
    ['library.dpkg.openssl', 'library.dpkg.openssl'],
    ['library.dpkg["openssl"]', 'library.dpkg.openssl'],
    ['["library"].dpkg.openssl', 'library.dpkg.openssl'],
    ['library.pip["zope.interface"]', 'library.pip["zope.interface"]'],
    ['library.pip["zope\\u002einterface"]', 'library.pip["zope.interface"]'],
    ['config.file["\\/etc\\/a.yaml"].db', 'config.file["/etc/a.yaml"].db'],
    ['a["\\u0062"]', 'a.b'],
    ['a["caf\\u00e9"]', 'a["café"]'],
    ['a[""]', 'a[""]'],
  ])('%j is written %j', (path, canonical) => {
    expect(canonicalPath(path)).toBe(canonical);
    expect(isCanonicalPath(path)).toBe(path === canonical);
    expect(isCanonicalPath(canonical)).toBe(true);
    expect(parsePath(path)).toEqual(parsePath(canonical));
  });

  it('rejects invalid paths: isCanonicalPath is false, canonicalPath throws', () => {
    for (const bad of ['', 'a..b', 'a.["b"]', 'a*', 'a["b"']) {
      expect(isCanonicalPath(bad)).toBe(false);
      expect(() => canonicalPath(bad)).toThrow(PathSyntaxError);
    }
  });

  it('is formatPath(parsePath(path)) and idempotent (property)', () => {
    const segment = fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom('a', 'b.c', '"', '\\', '/', 'x y', ''));
    // Spell each segment in one of the ways the syntax allows: bare when it can be, or quoted with
    // JSON escapes of any character (even for bare segments).
    const spelling = fc.tuple(segment, fc.boolean(), fc.boolean()).map(([text, quote, escapeAll]) => {
      if (!quote && /^[A-Za-z0-9_\-+:@/~%,=]+$/.test(text)) return { text, written: text };
      const body = escapeAll
        ? text
            .split('')
            .map((ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)
            .join('')
        : JSON.stringify(text).slice(1, -1);
      return { text, written: `["${body}"]` };
    });
    fc.assert(
      fc.property(fc.array(spelling, { minLength: 1, maxLength: 6 }), (parts) => {
        const path = parts
          .map(({ written }, i) => (i > 0 && !written.startsWith('[') ? `.${written}` : written))
          .join('');
        const canonical = canonicalPath(path);
        expect(canonical).toBe(formatPath(parts.map(({ text }) => text)));
        expect(canonicalPath(canonical)).toBe(canonical);
        expect(isCanonicalPath(canonical)).toBe(true);
        expect(isCanonicalPath(path)).toBe(path === canonical);
      }),
      { numRuns: 2_000 },
    );
  });
});
