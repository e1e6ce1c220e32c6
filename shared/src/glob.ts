/**
 * Glob matching on fact paths and on plain names.
 *
 * Path globs use the path syntax (see paths.ts) with two wildcards in bare segments:
 * `*` any characters within one segment, `?` one character; a segment that is exactly `**`
 * matches zero or more whole segments. Quoted segments (`["a.b"]`) are literal.
 * Matching is per segment, so a `*` never crosses a segment boundary even when the segment
 * itself holds dots or slashes (`library.pip.*` matches `library.pip["zope.interface"]`).
 * General-purpose glob libraries treat `/` as the separator, which is wrong for fact paths.
 *
 * Globs come from users (exceptions over the API, config files), so matching must not backtrack:
 * an earlier RegExp-based matcher took about 1 s for `*a*a*a*a*a*a*a*a*a*a` against one long name,
 * and a recursive `**` made one exception glob slow `/compare` from 3 ms to 960 ms (issue 10).
 * Both levels now use the greedy wildcard algorithm with a single backtrack point (the last star):
 * within a segment over UTF-16 code units, across segments over whole segments for `**`. That is
 * O(pattern x text) in the worst case, never exponential, and globs are capped in length.
 */
import { EnvparityError } from './errors.js';
import { parsePath } from './paths.js';

/** Longest glob text accepted (path globs and name globs), in UTF-16 code units. */
export const MAX_GLOB_LENGTH = 1024;
/** Most segments a path glob may have. */
export const MAX_GLOB_SEGMENTS = 64;
/** Compiled name globs kept for reuse (`matchName` is called per name with the same few globs). */
export const DEFAULT_NAME_GLOB_CACHE_SIZE = 1024;

/** A glob over one of the limits above; `limit` names the constant. */
export class GlobTooLongError extends EnvparityError {
  readonly glob: string;
  readonly limit: 'MAX_GLOB_LENGTH' | 'MAX_GLOB_SEGMENTS';
  constructor(message: string, glob: string, limit: 'MAX_GLOB_LENGTH' | 'MAX_GLOB_SEGMENTS') {
    super('GLOB_TOO_LONG', message);
    this.glob = glob;
    this.limit = limit;
  }
}

const WILDCARD_CHARS = '*?';
// Tokens of a compiled name glob: a code unit (>= 0), or one of these.
const STAR = -1;
const ANY = -2;

/** A compiled name glob (`*` any characters, `?` one UTF-16 code unit, everything else literal). */
export interface NameGlob {
  readonly source: string;
  readonly caseInsensitive: boolean;
  matches(name: string): boolean;
}

const compiledNameGlobs = new Map<string, NameGlob>();

/**
 * Compiles a name glob into a linear-time matcher. Case-insensitive matching folds both sides the
 * way a non-unicode `/i` RegExp does (simple uppercase mapping, never non-ASCII onto ASCII), so the
 * `secrets` globs keep the meaning they had. Throws GlobTooLongError over MAX_GLOB_LENGTH.
 */
export function compileNameGlob(glob: string, caseInsensitive = false): NameGlob {
  checkLength(glob, 'name');
  const cacheKey = `${caseInsensitive ? 'i' : 's'}:${glob}`;
  let compiled = compiledNameGlobs.get(cacheKey);
  if (!compiled) {
    compiled = buildNameGlob(glob, caseInsensitive);
    if (compiledNameGlobs.size >= DEFAULT_NAME_GLOB_CACHE_SIZE) compiledNameGlobs.clear();
    compiledNameGlobs.set(cacheKey, compiled);
  }
  return compiled;
}

/** True when `name` matches the name glob (e.g. env var `FEATURE_X` against `FEATURE_*`). */
export function matchName(glob: string, name: string, caseInsensitive = false): boolean {
  return compileNameGlob(glob, caseInsensitive).matches(name);
}

/** True when `name` matches any of the globs. */
export function matchAnyName(globs: readonly string[], name: string, caseInsensitive = false): boolean {
  return globs.some((glob) => matchName(glob, name, caseInsensitive));
}

function buildNameGlob(glob: string, caseInsensitive: boolean): NameGlob {
  const fold = caseInsensitive ? foldCase : identity;
  const tokens: number[] = [];
  for (let i = 0; i < glob.length; i++) {
    const ch = glob.charCodeAt(i);
    if (ch === 0x2a /* * */) {
      if (tokens[tokens.length - 1] !== STAR) tokens.push(STAR); // `**` in a name is one `*`
    } else if (ch === 0x3f /* ? */) {
      tokens.push(ANY);
    } else {
      tokens.push(fold(ch));
    }
  }
  const pattern = Int32Array.from(tokens);
  const literal = pattern.every((token) => token >= 0);
  return {
    source: glob,
    caseInsensitive,
    matches: literal && !caseInsensitive ? (name) => name === glob : (name) => wildcardMatch(pattern, name, fold),
  };
}

/**
 * The classic greedy wildcard match: on a mismatch, only the most recent `*` is retried one unit
 * further. Earlier stars never need revisiting, because every other token matches exactly one unit.
 */
function wildcardMatch(pattern: Int32Array, text: string, fold: (ch: number) => number): boolean {
  const m = pattern.length;
  const n = text.length;
  let pi = 0;
  let ti = 0;
  let star = -1;
  let mark = 0;
  while (ti < n) {
    if (pi < m) {
      const token = pattern[pi] as number;
      if (token === STAR) {
        star = pi++;
        mark = ti;
        continue;
      }
      if (token === ANY || token === fold(text.charCodeAt(ti))) {
        pi++;
        ti++;
        continue;
      }
    }
    if (star < 0) return false;
    pi = star + 1;
    ti = ++mark;
  }
  while (pi < m && pattern[pi] === STAR) pi++;
  return pi === m;
}

function identity(ch: number): number {
  return ch;
}

const foldedNonAscii = new Map<number, number>();

/** ECMAScript's Canonicalize for non-unicode ignoreCase RegExps, on one UTF-16 code unit. */
function foldCase(ch: number): number {
  if (ch < 0x80) return ch >= 0x61 && ch <= 0x7a ? ch - 0x20 : ch;
  let folded = foldedNonAscii.get(ch);
  if (folded === undefined) {
    const upper = String.fromCharCode(ch).toUpperCase();
    folded = upper.length !== 1 || upper.charCodeAt(0) < 0x80 ? ch : upper.charCodeAt(0);
    foldedNonAscii.set(ch, folded);
  }
  return folded;
}

type SegmentMatcher = { kind: 'any-depth' } | { kind: 'literal'; value: string } | { kind: 'wild'; glob: NameGlob };

/** A compiled path glob. */
export interface PathGlob {
  readonly source: string;
  matches(path: string | readonly string[]): boolean;
}

/**
 * Parses a path glob once; throws PathSyntaxError when it does not follow the path syntax and
 * GlobTooLongError over MAX_GLOB_LENGTH characters or MAX_GLOB_SEGMENTS segments.
 */
export function compilePathGlob(glob: string): PathGlob {
  const matchers = parseGlobSegments(glob);
  return {
    source: glob,
    matches(path) {
      const segments = typeof path === 'string' ? parsePath(path) : path;
      return matchSegments(matchers, segments);
    },
  };
}

/** One-off convenience; compile once with compilePathGlob when matching many paths. */
export function matchPathGlob(glob: string, path: string): boolean {
  return compilePathGlob(glob).matches(path);
}

function checkLength(glob: string, kind: 'path' | 'name'): void {
  if (glob.length > MAX_GLOB_LENGTH) {
    throw new GlobTooLongError(
      `${kind} glob ${JSON.stringify(`${glob.slice(0, 32)}...`)} is ${glob.length} characters long, over the limit of ${MAX_GLOB_LENGTH} (MAX_GLOB_LENGTH)`,
      glob,
      'MAX_GLOB_LENGTH',
    );
  }
}

function parseGlobSegments(glob: string): SegmentMatcher[] {
  checkLength(glob, 'path');
  // Quoted segments must stay literal, so parse twice: once to find which segments were quoted.
  const segments = parsePath(glob, WILDCARD_CHARS);
  if (segments.length > MAX_GLOB_SEGMENTS) {
    throw new GlobTooLongError(
      `path glob ${JSON.stringify(`${glob.slice(0, 32)}...`)} has ${segments.length} segments, over the limit of ${MAX_GLOB_SEGMENTS} (MAX_GLOB_SEGMENTS)`,
      glob,
      'MAX_GLOB_SEGMENTS',
    );
  }
  const quoted = quotedSegmentFlags(glob);
  const matchers: SegmentMatcher[] = [];
  for (const [index, segment] of segments.entries()) {
    if (quoted[index]) matchers.push({ kind: 'literal', value: segment });
    else if (segment === '**') {
      // `**.**` means the same as `**`; one is enough.
      if (matchers[matchers.length - 1]?.kind !== 'any-depth') matchers.push({ kind: 'any-depth' });
    } else if (/[*?]/.test(segment)) matchers.push({ kind: 'wild', glob: buildNameGlob(segment, false) });
    else matchers.push({ kind: 'literal', value: segment });
  }
  return matchers;
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

function segmentMatches(matcher: SegmentMatcher, segment: string): boolean {
  return matcher.kind === 'literal'
    ? matcher.value === segment
    : matcher.kind === 'wild' && matcher.glob.matches(segment);
}

/**
 * The same greedy algorithm one level up: `**` is the star, every other matcher takes exactly one
 * segment. Each (matcher, segment) pair is tried at most once per `**`, so no exponential blow-up.
 */
function matchSegments(matchers: readonly SegmentMatcher[], segments: readonly string[]): boolean {
  const m = matchers.length;
  const n = segments.length;
  let mi = 0;
  let si = 0;
  let star = -1;
  let mark = 0;
  while (si < n) {
    if (mi < m) {
      const matcher = matchers[mi] as SegmentMatcher;
      if (matcher.kind === 'any-depth') {
        star = mi++;
        mark = si;
        continue;
      }
      if (segmentMatches(matcher, segments[si] as string)) {
        mi++;
        si++;
        continue;
      }
    }
    if (star < 0) return false;
    mi = star + 1;
    si = ++mark;
  }
  while (mi < m && (matchers[mi] as SegmentMatcher).kind === 'any-depth') mi++;
  return mi === m;
}
