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
 * Both levels now use the greedy wildcard algorithm, which never revisits an earlier star: within a
 * segment over UTF-16 code units (chunks between stars placed leftmost), across segments over
 * whole segments for `**` (one backtrack point, the last `**`). Within a segment that is linear
 * for runs without `?` and O(text x run / 32) with them; across segments at most one segment test
 * per (glob segment, path segment) pair. Never exponential, and globs are capped in length.
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
// A `?` in a compiled name glob; every other token is a (folded) UTF-16 code unit.
const ANY = -1;

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
  // The glob split at its stars: `a*b?c*` is chunks `a`, `b?c` and a trailing star.
  const chunks: Chunk[] = [];
  let tokens: number[] = [];
  let stars = 0;
  const endChunk = () => {
    const pattern = Int32Array.from(tokens);
    const literal = tokens.every((token) => token >= 0) ? String.fromCharCode(...tokens) : undefined;
    chunks.push({ pattern, literal, masks: literal === undefined ? shiftAndMasks(pattern) : undefined });
    tokens = [];
  };
  for (let i = 0; i < glob.length; i++) {
    const ch = glob.charCodeAt(i);
    if (ch === 0x2a /* * */) {
      endChunk();
      stars++;
    } else tokens.push(ch === 0x3f /* ? */ ? ANY : fold(ch));
  }
  endChunk();
  if (stars === 0 && !caseInsensitive && chunks[0]?.literal !== undefined) {
    return { source: glob, caseInsensitive, matches: (name) => name === glob };
  }
  return {
    source: glob,
    caseInsensitive,
    matches: (name) => matchChunks(chunks, caseInsensitive ? foldString(name) : name),
  };
}

/**
 * A run of the glob between stars: `?` (ANY) and code units. `literal` when it has no `?`;
 * otherwise `masks` for a bit-parallel (shift-and) search.
 */
interface Chunk {
  readonly pattern: Int32Array;
  readonly literal: string | undefined;
  readonly masks: ShiftAndMasks | undefined;
}

/** Per code unit, the bits of the chunk positions it can stand at; `any` for units not in the map. */
interface ShiftAndMasks {
  readonly words: number;
  readonly byUnit: Map<number, Uint32Array>;
  readonly any: Uint32Array;
  /** The chunk's longest run without `?` and its offset: a quick `indexOf` skips text it cannot match. */
  readonly anchor: string;
  readonly anchorOffset: number;
}

function shiftAndMasks(pattern: Int32Array): ShiftAndMasks {
  const words = Math.ceil(pattern.length / 32);
  const any = new Uint32Array(words);
  const setBit = (mask: Uint32Array, i: number) => {
    mask[i >>> 5] = (mask[i >>> 5] as number) | (1 << (i & 31));
  };
  for (const [i, token] of pattern.entries()) if (token === ANY) setBit(any, i);
  const byUnit = new Map<number, Uint32Array>();
  for (const [i, token] of pattern.entries()) {
    if (token === ANY) continue;
    let mask = byUnit.get(token);
    if (!mask) {
      mask = Uint32Array.from(any);
      byUnit.set(token, mask);
    }
    setBit(mask, i);
  }
  let anchorOffset = 0;
  let anchorLength = 0;
  for (let start = 0; start < pattern.length; ) {
    let end = start;
    while (end < pattern.length && pattern[end] !== ANY) end++;
    if (end - start > anchorLength) [anchorOffset, anchorLength] = [start, end - start];
    start = end + 1;
  }
  const anchor = String.fromCharCode(...pattern.subarray(anchorOffset, anchorOffset + anchorLength));
  return { words, byUnit, any, anchor, anchorOffset };
}

/**
 * The greedy wildcard algorithm, chunk by chunk: the first chunk is anchored at the start, the
 * last at the end, and each chunk in between is placed at its leftmost occurrence after the one
 * before. Leftmost is always safe (it leaves the most room for the rest), so no star is ever
 * revisited: nothing backtracks. Chunks without `?` are found with `indexOf` (linear in V8), the
 * others with a bit-parallel scan, ceil(chunk length / 32) word operations per text unit.
 */
function matchChunks(chunks: readonly Chunk[], text: string): boolean {
  const first = chunks[0] as Chunk;
  if (chunks.length === 1) return first.pattern.length === text.length && matchesAt(first, text, 0);
  const last = chunks[chunks.length - 1] as Chunk;
  let from = first.pattern.length;
  const to = text.length - last.pattern.length;
  if (to < from || !matchesAt(first, text, 0) || !matchesAt(last, text, to)) return false;
  for (let c = 1; c < chunks.length - 1; c++) {
    const chunk = chunks[c] as Chunk;
    const at = indexOfChunk(chunk, text, from, to);
    if (at < 0) return false;
    from = at + chunk.pattern.length;
  }
  return true;
}

function matchesAt(chunk: Chunk, text: string, at: number): boolean {
  const { pattern } = chunk;
  for (let i = 0; i < pattern.length; i++) {
    const token = pattern[i] as number;
    if (token !== ANY && token !== text.charCodeAt(at + i)) return false;
  }
  return true;
}

/** Leftmost offset >= from where `chunk` fits entirely before `to`, or -1. */
function indexOfChunk(chunk: Chunk, text: string, from: number, to: number): number {
  const length = chunk.pattern.length;
  if (chunk.literal !== undefined) {
    const at = text.indexOf(chunk.literal, from);
    return at >= 0 && at + length <= to ? at : -1;
  }
  const masks = chunk.masks as ShiftAndMasks;
  // Any occurrence at p >= from has the anchor at p + anchorOffset, so none starts before this.
  if (masks.anchor.length > 0) {
    const anchorAt = text.indexOf(masks.anchor, from + masks.anchorOffset);
    if (anchorAt < 0) return -1;
    from = anchorAt - masks.anchorOffset;
  }
  return shiftAndSearch(masks, length, text, from, to);
}

/**
 * Shift-and: bit i of the state is set when the last i+1 units read match the chunk's first i+1
 * tokens. One pass over the text, ceil(length / 32) word operations per unit.
 */
function shiftAndSearch(masks: ShiftAndMasks, length: number, text: string, from: number, to: number): number {
  const { words, byUnit, any } = masks;
  const state = new Uint32Array(words);
  const lastWord = (length - 1) >>> 5;
  const lastBit = 1 << ((length - 1) & 31);
  for (let j = from; j < to; j++) {
    const mask = byUnit.get(text.charCodeAt(j)) ?? any;
    let carry = 1;
    for (let w = 0; w < words; w++) {
      const word = state[w] as number;
      state[w] = ((word << 1) | carry) & (mask[w] as number);
      carry = word >>> 31;
    }
    if ((state[lastWord] as number) & lastBit) return j - length + 1;
  }
  return -1;
}

/** `text` with every code unit folded (see foldCase). */
function foldString(text: string): string {
  if (/^[\x00-\x7f]*$/.test(text)) return text.toUpperCase();
  let out = '';
  for (let i = 0; i < text.length; i++) out += String.fromCharCode(foldCase(text.charCodeAt(i)));
  return out;
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

/**
 * Whether the glob can match some path whose first segment (its category) is `category`: the
 * glob's first segment is `**`, that name, or a wildcard that matches it. `**` and `*.x` reach every
 * category; `config.*` reaches none but config.
 */
export function globReachesCategory(glob: string, category: string): boolean {
  const [first] = parseGlobSegments(glob);
  return first !== undefined && (first.kind === 'any-depth' || segmentMatches(first, category));
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
