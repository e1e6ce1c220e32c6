import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compileNameGlob,
  compilePathGlob,
  GlobTooLongError,
  globReachesCategory,
  MAX_GLOB_LENGTH,
  MAX_GLOB_SEGMENTS,
  matchAnyName,
  matchName,
  matchPathGlob,
} from './glob.js';
import { factPath, formatPath, parsePath } from './paths.js';

describe('matchPathGlob', () => {
  it('matches one segment with *', () => {
    expect(matchPathGlob('config.env.FEATURE_*', 'config.env.FEATURE_X')).toBe(true);
    expect(matchPathGlob('config.env.FEATURE_*', 'config.env.LOG_LEVEL')).toBe(false);
    expect(matchPathGlob('library.dpkg.*', 'library.dpkg.openssl')).toBe(true);
    expect(matchPathGlob('library.dpkg.*', 'library.rpm.openssl')).toBe(false);
  });

  it('never lets * cross a segment, even for segments holding dots or slashes', () => {
    expect(matchPathGlob('library.pip.*', factPath('library', 'pip', 'zope.interface'))).toBe(true);
    expect(matchPathGlob('app.*.npm.*', factPath('app', '/srv/app', 'npm', '@babel/core'))).toBe(true);
    expect(matchPathGlob('library.*', 'library.dpkg.openssl')).toBe(false);
  });

  it('matches any depth with **', () => {
    expect(matchPathGlob('config.**', 'config.file["/etc/a.yaml"].db.host')).toBe(true);
    expect(matchPathGlob('config.**', 'config')).toBe(true);
    expect(matchPathGlob('**.uptime', 'os.uptime')).toBe(true);
    expect(matchPathGlob('config.**.host', 'config.file["/etc/a.yaml"].db.host')).toBe(true);
    expect(matchPathGlob('config.**.host', 'config.file["/etc/a.yaml"].db.port')).toBe(false);
  });

  it('keeps quoted glob segments literal', () => {
    expect(matchPathGlob('config.file["/etc/*.yaml"].**', 'config.file["/etc/a.yaml"].x')).toBe(false);
    expect(matchPathGlob('config.file["/etc/*.yaml"].**', 'config.file["/etc/*.yaml"].x')).toBe(true);
  });

  it('supports ? for one character', () => {
    expect(matchPathGlob('os.kernel.v?', 'os.kernel.v1')).toBe(true);
    expect(matchPathGlob('os.kernel.v?', 'os.kernel.v12')).toBe(false);
  });

  it('rejects malformed globs', () => {
    expect(() => compilePathGlob('config..x')).toThrow('empty segment');
    expect(() => compilePathGlob('config["x')).toThrow('unterminated');
  });

  it('accepts parsed segments directly', () => {
    expect(compilePathGlob('a.*').matches(['a', 'b.c'])).toBe(true);
  });
});

describe('matchName', () => {
  it('matches env var names', () => {
    expect(matchName('DB_*', 'DB_HOST')).toBe(true);
    expect(matchName('DB_*', 'XDB_HOST')).toBe(false);
    expect(matchName('*_KEY', 'API_KEY')).toBe(true);
    expect(matchName('a.b', 'axb')).toBe(false);
  });

  it('is case-insensitive on request', () => {
    expect(matchName('*PASSWORD*', 'db_password')).toBe(false);
    expect(matchName('*PASSWORD*', 'db_password', true)).toBe(true);
    expect(matchAnyName(['*SECRET*', '*TOKEN*'], 'github_token', true)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Reference oracle: the matcher as it was before issue 10 (RegExp per wild segment, recursive `**`),
// copied verbatim apart from names. Correct but backtracking; kept here only to pin the semantics.
// ---------------------------------------------------------------------------------------------
const legacy = (() => {
  const compiled = new Map<string, RegExp>();
  function nameGlobToRegExp(glob: string, caseInsensitive = false): RegExp {
    const cacheKey = `${caseInsensitive ? 'i' : 's'}:${glob}`;
    let re = compiled.get(cacheKey);
    if (!re) {
      const source = glob
        .split('')
        .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
        .join('');
      re = new RegExp(`^${source}$`, caseInsensitive ? 'is' : 's');
      compiled.set(cacheKey, re);
    }
    return re;
  }
  type SegmentMatcher = { kind: 'any-depth' } | { kind: 'literal'; value: string } | { kind: 'wild'; re: RegExp };
  function quotedSegmentFlags(glob: string): boolean[] {
    const flags: boolean[] = [];
    let i = 0;
    while (i < glob.length) {
      if (glob[i] === '[') {
        flags.push(true);
        i++;
        i++;
        while (i < glob.length && glob[i] !== '"') i += glob[i] === '\\' ? 2 : 1;
        i += 2;
      } else {
        flags.push(false);
        while (i < glob.length && glob[i] !== '.' && glob[i] !== '[') i++;
      }
      if (glob[i] === '.') i++;
    }
    return flags;
  }
  function parseGlobSegments(glob: string): SegmentMatcher[] {
    const segments = parsePath(glob, '*?');
    const quoted = quotedSegmentFlags(glob);
    return segments.map((segment, index): SegmentMatcher => {
      if (quoted[index]) return { kind: 'literal', value: segment };
      if (segment === '**') return { kind: 'any-depth' };
      if (/[*?]/.test(segment)) return { kind: 'wild', re: nameGlobToRegExp(segment) };
      return { kind: 'literal', value: segment };
    });
  }
  function matchSegments(matchers: SegmentMatcher[], mi: number, segments: readonly string[], si: number): boolean {
    while (mi < matchers.length) {
      const matcher = matchers[mi] as SegmentMatcher;
      if (matcher.kind === 'any-depth') {
        for (let skip = si; skip <= segments.length; skip++) {
          if (matchSegments(matchers, mi + 1, segments, skip)) return true;
        }
        return false;
      }
      if (si >= segments.length) return false;
      const segment = segments[si] as string;
      if (matcher.kind === 'literal' ? matcher.value !== segment : !matcher.re.test(segment)) return false;
      mi++;
      si++;
    }
    return si === segments.length;
  }
  return {
    matchName: (glob: string, name: string, caseInsensitive = false) =>
      nameGlobToRegExp(glob, caseInsensitive).test(name),
    compilePathGlob: (glob: string) => {
      const matchers = parseGlobSegments(glob);
      return { matches: (segments: readonly string[]) => matchSegments(matchers, 0, segments, 0) };
    },
  };
})();

// Small alphabets so that random globs and names actually match each other often.
const nameChar = fc.constantFrom(
  ...'aAbBsSiI*?.-_ \n\\^$|+()[]{}',
  'k',
  'K',
  '\u212a', // KELVIN SIGN: uppercases to itself, never folds onto ASCII `k`
  '\u017f', // LATIN SMALL LETTER LONG S: uppercases to ASCII `S`, which /i does not fold onto
  '\u00b5', // MICRO SIGN: uppercases to U+039C, like U+03BC
  '\u03bc',
  '\u00df', // sharp s: uppercases to two letters, so it folds to itself
  '\u0131', // dotless i
  '\ud83d', // a lone surrogate
);
const nameText = fc.array(nameChar, { maxLength: 12 }).map((chars) => chars.join(''));

describe('name globs agree with the former RegExp matcher (property)', () => {
  it('case-sensitive and case-insensitive', () => {
    fc.assert(
      fc.property(nameText, nameText, fc.boolean(), (glob, name, caseInsensitive) => {
        expect(matchName(glob, name, caseInsensitive)).toBe(legacy.matchName(glob, name, caseInsensitive));
      }),
      { numRuns: 20_000 },
    );
  });

  it('on a two-letter alphabet, where chunks overlap and near-misses are common', () => {
    const tiny = (chars: string[], maxLength: number) =>
      fc.array(fc.constantFrom(...chars), { maxLength }).map((c) => c.join(''));
    fc.assert(
      fc.property(tiny(['a', 'b', '*', '?'], 8), tiny(['a', 'b'], 10), (glob, name) => {
        expect(matchName(glob, name)).toBe(legacy.matchName(glob, name));
      }),
      { numRuns: 20_000 },
    );
  });

  it('names built to match: a glob derived from the name by replacing runs with * and ?', () => {
    const derived = nameText.chain((name) =>
      fc
        .array(fc.constantFrom('keep', 'star', 'any', 'drop-star'), { minLength: name.length, maxLength: name.length })
        .map((ops) => {
          let glob = '';
          for (const [i, op] of ops.entries()) {
            const ch = name[i] as string;
            if (op === 'keep') glob += ch === '*' || ch === '?' ? '?' : ch;
            else if (op === 'star') glob += '*';
            else if (op === 'any') glob += '?';
            else glob += `*${ch === '*' || ch === '?' ? '?' : ch}`;
          }
          return { glob, name };
        }),
    );
    fc.assert(
      fc.property(derived, fc.boolean(), ({ glob, name }, caseInsensitive) => {
        const expected = legacy.matchName(glob, name, caseInsensitive);
        expect(expected).toBe(true);
        expect(matchName(glob, name, caseInsensitive)).toBe(expected);
      }),
      { numRuns: 5_000 },
    );
  });
});

describe('name globs with long runs between stars (property: multi-word bit-parallel search)', () => {
  // Runs of 20-100 tokens, so the `?` chunks span several 32-bit words; few stars keep the oracle fast.
  const run = fc
    .array(fc.constantFrom('a', 'b', '?', 'a', 'a'), { minLength: 20, maxLength: 100 })
    .map((c) => c.join(''));
  const glob = fc
    .tuple(fc.boolean(), fc.array(run, { minLength: 1, maxLength: 3 }), fc.boolean())
    .map(([lead, runs, trail]) => `${lead ? '*' : ''}${runs.join('*')}${trail ? '*' : ''}`);
  // Texts made of the glob with its wildcards filled in and random edits, so both answers occur.
  const text = fc.array(fc.constantFrom('a', 'a', 'a', 'b'), { maxLength: 300 }).map((c) => c.join(''));
  it('agrees with the RegExp matcher', () => {
    fc.assert(
      fc.property(glob, text, fc.boolean(), (source, name, caseInsensitive) => {
        expect(matchName(source, name, caseInsensitive)).toBe(legacy.matchName(source, name, caseInsensitive));
      }),
      { numRuns: 3_000 },
    );
  });
  it('agrees on texts built to match, with one unit changed or not', () => {
    const built = fc
      .tuple(glob, fc.nat(), fc.array(fc.constantFrom('a', 'b'), { maxLength: 40 }), fc.boolean())
      .map(([source, seed, filler, mutate]) => {
        let name = '';
        let k = seed;
        for (const ch of source) {
          if (ch === '*') {
            k = (k * 7 + 3) % 41;
            name += filler.slice(0, k).join('');
          } else if (ch === '?') name += k++ % 2 ? 'a' : 'b';
          else name += ch;
        }
        if (mutate && name.length > 0) {
          const at = seed % name.length;
          name = `${name.slice(0, at)}${name[at] === 'a' ? 'b' : 'a'}${name.slice(at + 1)}`;
        }
        return { source, name };
      });
    let matched = 0;
    fc.assert(
      fc.property(built, ({ source, name }) => {
        const expected = legacy.matchName(source, name);
        if (expected) matched++;
        expect(matchName(source, name)).toBe(expected);
      }),
      { numRuns: 3_000 },
    );
    expect(matched).toBeGreaterThan(500);
  });
});

describe('path globs agree with the former recursive matcher (property)', () => {
  const bareGlobSegment = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom('**', '*', '?', 'a', 'b', 'a*', '*a', 'a?', '*a*', 'ab', '?*', '***') },
    {
      weight: 1,
      arbitrary: fc
        .array(fc.constantFrom('a', 'b', '*', '?', '-'), { minLength: 1, maxLength: 5 })
        .map((c) => c.join('')),
    },
  );
  // A glob segment: bare (wildcards live), or quoted (literal, even when it holds `*`, `**` or `.`).
  const globSegment = fc.oneof(
    { weight: 4, arbitrary: bareGlobSegment.map((text) => ({ text, quoted: false })) },
    { weight: 1, arbitrary: fc.constantFrom('**', '*', 'a.b', 'a', '', 'a*').map((text) => ({ text, quoted: true })) },
  );
  const glob = fc
    .array(globSegment, { minLength: 1, maxLength: 8 })
    .map((segments) =>
      segments
        .map(({ text, quoted }, i) => (quoted ? `[${JSON.stringify(text)}]` : i === 0 ? text : `.${text}`))
        .join(''),
    );
  const pathSegment = fc.oneof(
    fc.constantFrom('a', 'b', 'ab', 'ba', 'aa', 'a-b', '**', '*', 'a*', 'a.b', ''),
    fc.array(fc.constantFrom('a', 'b', '*', '.'), { minLength: 0, maxLength: 6 }).map((c) => c.join('')),
  );
  const path = fc.array(pathSegment, { minLength: 1, maxLength: 10 });

  it('on random globs and random paths', () => {
    fc.assert(
      fc.property(glob, path, (source, segments) => {
        const expected = legacy.compilePathGlob(source).matches(segments);
        expect(compilePathGlob(source).matches(segments)).toBe(expected);
        expect(compilePathGlob(source).matches(formatPath(segments))).toBe(expected);
      }),
      { numRuns: 20_000 },
    );
  });

  it('on paths built to match a random glob', () => {
    // Expand each glob segment into path segments it matches, so that true answers are common.
    const expand = (text: string, quoted: boolean, pick: number): string[] => {
      if (quoted) return [text];
      if (text === '**') return Array.from({ length: pick % 4 }, (_, i) => (i % 2 ? 'b' : 'a'));
      return [text.replaceAll('*', pick % 2 ? 'ab' : '').replaceAll('?', 'b')];
    };
    const case_ = fc.array(fc.tuple(globSegment, fc.nat(7)), { minLength: 1, maxLength: 8 }).map((parts) => ({
      source: parts
        .map(([{ text, quoted }], i) => (quoted ? `[${JSON.stringify(text)}]` : i === 0 ? text : `.${text}`))
        .join(''),
      segments: parts.flatMap(([{ text, quoted }, pick]) => expand(text, quoted, pick)),
    }));
    fc.assert(
      fc.property(case_, ({ source, segments }) => {
        fc.pre(segments.length > 0);
        const expected = legacy.compilePathGlob(source).matches(segments);
        expect(expected).toBe(true);
        expect(compilePathGlob(source).matches(segments)).toBe(true);
      }),
      { numRuns: 5_000 },
    );
  });
});

describe('worst cases (issue 10: backtracking globs)', () => {
  it('ten `*a` in one segment against a long non-matching name: linear, not exponential', () => {
    const glob = '*a'.repeat(10);
    const name = `${'a'.repeat(5_000)}b`;
    const started = performance.now();
    expect(matchName(glob, name)).toBe(false);
    expect(matchName(glob, name, true)).toBe(false);
    expect(matchPathGlob(`config.env.${glob}`, `config.env.${name}`)).toBe(false);
    expect(matchName(glob, `${name}a`)).toBe(true);
    // The RegExp matcher needs about 1 s for 30 characters; the greedy one is O(glob x name) at worst.
    expect(performance.now() - started).toBeLessThan(250);
  });

  it('many `**` segments against a deep non-matching path', () => {
    const glob = compilePathGlob(`${'**.a.'.repeat(12)}**.zzz`);
    const segments = Array.from({ length: 60 }, () => 'a');
    const started = performance.now();
    expect(glob.matches(segments)).toBe(false);
    expect(glob.matches([...segments, 'zzz'])).toBe(true);
    expect(performance.now() - started).toBeLessThan(250);
  });

  it('`*` and `**` mixed, the exception-glob shape that slowed /compare', () => {
    const glob = compilePathGlob('**.*.**.*.**.*.**.*.**.*.**.*.**.*.**.*.**.nope');
    const segments = Array.from({ length: 40 }, (_, i) => `s${i}`);
    const started = performance.now();
    for (let i = 0; i < 100; i++) expect(glob.matches(segments)).toBe(false);
    expect(glob.matches([...segments, 'nope'])).toBe(true);
    expect(glob.matches(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'nope'])).toBe(true);
    expect(glob.matches(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'nope'])).toBe(false);
    expect(performance.now() - started).toBeLessThan(250);
  });
});

describe('glob limits', () => {
  it('accepts a glob at the limits', () => {
    expect(() => compilePathGlob(`a${'.b'.repeat(MAX_GLOB_SEGMENTS - 1)}`)).not.toThrow();
    expect(() => compilePathGlob(`a.${'b'.repeat(MAX_GLOB_LENGTH - 2)}`)).not.toThrow();
    expect(() => compileNameGlob('*'.repeat(MAX_GLOB_LENGTH))).not.toThrow();
  });

  it('rejects a path glob over MAX_GLOB_LENGTH characters, naming the limit', () => {
    const glob = `a.${'b'.repeat(MAX_GLOB_LENGTH - 1)}`;
    expect(() => compilePathGlob(glob)).toThrow(GlobTooLongError);
    expect(() => compilePathGlob(glob)).toThrow(
      `${MAX_GLOB_LENGTH + 1} characters long, over the limit of 1024 (MAX_GLOB_LENGTH)`,
    );
    try {
      compilePathGlob(glob);
    } catch (error) {
      expect((error as GlobTooLongError).code).toBe('GLOB_TOO_LONG');
      expect((error as GlobTooLongError).limit).toBe('MAX_GLOB_LENGTH');
    }
  });

  it('rejects a path glob over MAX_GLOB_SEGMENTS segments, naming the limit', () => {
    const glob = `a${'.*'.repeat(MAX_GLOB_SEGMENTS)}`;
    expect(() => compilePathGlob(glob)).toThrow(
      `has ${MAX_GLOB_SEGMENTS + 1} segments, over the limit of 64 (MAX_GLOB_SEGMENTS)`,
    );
  });

  it('rejects a name glob over MAX_GLOB_LENGTH characters', () => {
    expect(() => matchName('*'.repeat(MAX_GLOB_LENGTH + 1), 'x')).toThrow('MAX_GLOB_LENGTH');
  });
});

describe('compileNameGlob', () => {
  it('treats regex metacharacters and `**` plainly', () => {
    expect(matchName('a.b', 'a.b')).toBe(true);
    expect(matchName('(a|b)+', '(a|b)+')).toBe(true);
    expect(matchName('(a|b)+', 'a')).toBe(false);
    expect(matchName('a**b', 'axyzb')).toBe(true);
    expect(matchName('line*', 'line\nbreak')).toBe(true);
    expect(matchName('?', '\n')).toBe(true);
  });

  it('keeps the chunks between stars from overlapping the anchored ends', () => {
    expect(matchName('*ab*ba', 'aba')).toBe(false);
    expect(matchName('*ab*ba', 'abba')).toBe(true);
    expect(matchName('ab*ba', 'aba')).toBe(false);
    expect(matchName('a?*?a', 'aba')).toBe(false);
    expect(matchName('*a?b*b?a', 'aabba')).toBe(false);
    expect(matchName('*a?b*b?a', 'aabbba')).toBe(true);
  });

  it('folds case like a non-unicode /i RegExp', () => {
    expect(matchName('K', 'k', true)).toBe(true);
    expect(matchName('K', '\u212a', true)).toBe(false);
    expect(matchName('S', '\u017f', true)).toBe(false);
    expect(matchName('\u00b5', '\u03bc', true)).toBe(true);
    expect(matchName('\u00e9', '\u00c9', true)).toBe(true);
    expect(matchName('\u00e9', '\u00c9')).toBe(false);
  });

  it('exposes its source and mode', () => {
    const glob = compileNameGlob('*TOKEN*', true);
    expect(glob).toMatchObject({ source: '*TOKEN*', caseInsensitive: true });
    expect(glob.matches('github_token')).toBe(true);
  });
});

describe('globReachesCategory', () => {
  it('is true when the first segment is **, the category or a wildcard matching it', () => {
    for (const glob of [
      'security.sshd.PasswordAuthentication',
      'security.**',
      '**',
      '**.PermitRootLogin',
      '*.sshd.*',
      's*',
    ])
      expect(globReachesCategory(glob, 'security'), glob).toBe(true);
    for (const glob of ['config.env.*', 'securityx.*', 'config.file["security.sshd"].*', 'library.**'])
      expect(globReachesCategory(glob, 'security'), glob).toBe(false);
  });
});
