/**
 * Glob matching on fact paths and on plain names.
 *
 * Path globs use the path syntax (see paths.ts) with two wildcards in bare segments:
 * `*` any characters within one segment, `?` one character; a segment that is exactly `**`
 * matches zero or more whole segments. Quoted segments (`["a.b"]`) are literal.
 * Matching is per segment, so a `*` never crosses a segment boundary even when the segment
 * itself holds dots or slashes (`library.pip.*` matches `library.pip["zope.interface"]`).
 * General-purpose glob libraries treat `/` as the separator, which is wrong for fact paths.
 */
import { parsePath } from './paths.js';

const WILDCARD_CHARS = '*?';
const compiledNameGlobs = new Map<string, RegExp>();

/** Compiles a name glob (`*`, `?`) into an anchored RegExp. Cached: globs repeat a lot. */
export function nameGlobToRegExp(glob: string, caseInsensitive = false): RegExp {
  const cacheKey = `${caseInsensitive ? 'i' : 's'}:${glob}`;
  let re = compiledNameGlobs.get(cacheKey);
  if (!re) {
    const source = glob
      .split('')
      .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
      .join('');
    re = new RegExp(`^${source}$`, caseInsensitive ? 'is' : 's');
    compiledNameGlobs.set(cacheKey, re);
  }
  return re;
}

/** True when `name` matches the name glob (e.g. env var `FEATURE_X` against `FEATURE_*`). */
export function matchName(glob: string, name: string, caseInsensitive = false): boolean {
  return nameGlobToRegExp(glob, caseInsensitive).test(name);
}

/** True when `name` matches any of the globs. */
export function matchAnyName(globs: readonly string[], name: string, caseInsensitive = false): boolean {
  return globs.some((glob) => matchName(glob, name, caseInsensitive));
}

type SegmentMatcher = { kind: 'any-depth' } | { kind: 'literal'; value: string } | { kind: 'wild'; re: RegExp };

/** A compiled path glob. */
export interface PathGlob {
  readonly source: string;
  matches(path: string | readonly string[]): boolean;
}

/** Parses a path glob once; throws PathSyntaxError when it does not follow the path syntax. */
export function compilePathGlob(glob: string): PathGlob {
  const matchers = parseGlobSegments(glob);
  return {
    source: glob,
    matches(path) {
      const segments = typeof path === 'string' ? parsePath(path) : path;
      return matchSegments(matchers, 0, segments, 0);
    },
  };
}

/** One-off convenience; compile once with compilePathGlob when matching many paths. */
export function matchPathGlob(glob: string, path: string): boolean {
  return compilePathGlob(glob).matches(path);
}

function parseGlobSegments(glob: string): SegmentMatcher[] {
  // Quoted segments must stay literal, so parse twice: once to find which segments were quoted.
  const segments = parsePath(glob, WILDCARD_CHARS);
  const quoted = quotedSegmentFlags(glob);
  return segments.map((segment, index): SegmentMatcher => {
    if (quoted[index]) return { kind: 'literal', value: segment };
    if (segment === '**') return { kind: 'any-depth' };
    if (/[*?]/.test(segment)) return { kind: 'wild', re: nameGlobToRegExp(segment) };
    return { kind: 'literal', value: segment };
  });
}

/** For each segment of a (valid) glob, whether it was written in brackets. */
function quotedSegmentFlags(glob: string): boolean[] {
  const flags: boolean[] = [];
  let i = 0;
  while (i < glob.length) {
    if (glob[i] === '[') {
      flags.push(true);
      i++;
      // skip the JSON string
      i++;
      while (i < glob.length && glob[i] !== '"') i += glob[i] === '\\' ? 2 : 1;
      i += 2; // closing quote and bracket
    } else {
      flags.push(false);
      while (i < glob.length && glob[i] !== '.' && glob[i] !== '[') i++;
    }
    if (glob[i] === '.') i++;
  }
  return flags;
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
