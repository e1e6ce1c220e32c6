/**
 * Fact paths: a flat, unambiguous address for every fact, e.g. `library.dpkg.openssl` or
 * `config.file["/etc/myapp/config.yaml"].db.host`.
 *
 * Escaping rule (one rule, documented in docs/ARCHITECTURE.md):
 * - segments are joined with `.`;
 * - a segment made only of "bare" characters (letters, digits and `_ - + : @ / ~ % , =`) is written as is;
 * - any other segment (empty, or holding `.`, spaces, quotes, brackets, `*`, `?`, backslashes, non-ASCII...)
 *   is written as `["..."]` with JSON string escaping, and no `.` before the bracket.
 * Formatting and parsing round-trip for every list of strings.
 */
import { PathSyntaxError } from './errors.js';

const BARE_SEGMENT = /^[A-Za-z0-9_\-+:@/~%,=]+$/;
const BARE_CHAR = /[A-Za-z0-9_\-+:@/~%,=]/;
// A path of bare segments only: valid and canonical without a full parse (the vast majority).
const BARE_PATH = /^[A-Za-z0-9_\-+:@/~%,=]+(?:\.[A-Za-z0-9_\-+:@/~%,=]+)*$/;

/** True when `segment` can be written without brackets. */
export function isBareSegment(segment: string): boolean {
  return BARE_SEGMENT.test(segment);
}

function formatSegment(segment: string): string {
  return isBareSegment(segment) ? segment : `[${JSON.stringify(segment)}]`;
}

/** Joins segments into one path string. At least one segment is required. */
export function formatPath(segments: readonly string[]): string {
  if (segments.length === 0) throw new PathSyntaxError('a fact path needs at least one segment', '');
  let out = '';
  for (const [index, segment] of segments.entries()) {
    const formatted = formatSegment(segment);
    if (index > 0 && !formatted.startsWith('[')) out += '.';
    out += formatted;
  }
  return out;
}

/** Shorthand: `factPath('library', 'dpkg', name)`. */
export function factPath(...segments: string[]): string {
  return formatPath(segments);
}

/**
 * Splits a path into its segments. `extraBareChars` lets glob patterns keep `*` and `?` bare.
 * Throws PathSyntaxError naming the offset of the first bad character.
 */
export function parsePath(path: string, extraBareChars = ''): string[] {
  // Most paths are bare segments only: one regex test and a split instead of a walk per character.
  if (BARE_PATH.test(path)) return path.split('.');
  const segments: string[] = [];
  let i = 0;
  const isBare = (ch: string) => BARE_CHAR.test(ch) || extraBareChars.includes(ch);
  while (i < path.length) {
    if (path[i] === '[') {
      const end = findQuotedEnd(path, i + 1);
      let value: unknown;
      try {
        value = JSON.parse(path.slice(i + 1, end + 1));
      } catch (cause) {
        throw new PathSyntaxError(`bad quoted segment at offset ${i}`, path, { cause });
      }
      if (path[end + 1] !== ']') throw new PathSyntaxError(`expected "]" at offset ${end + 1}`, path);
      segments.push(value as string);
      i = end + 2;
    } else {
      const start = i;
      while (i < path.length && isBare(path[i] as string)) i++;
      if (i === start)
        throw new PathSyntaxError(`unexpected character ${JSON.stringify(path[i])} at offset ${i}`, path);
      segments.push(path.slice(start, i));
    }
    if (i === path.length) break;
    if (path[i] === '.') {
      i++;
      if (i === path.length || path[i] === '.') throw new PathSyntaxError(`empty segment at offset ${i}`, path);
      if (path[i] === '[') throw new PathSyntaxError(`"." before "[" at offset ${i - 1}`, path);
    } else if (path[i] !== '[') {
      throw new PathSyntaxError(`unexpected character ${JSON.stringify(path[i])} at offset ${i}`, path);
    }
  }
  if (segments.length === 0) throw new PathSyntaxError('empty path', path);
  return segments;
}

/** Offset of the closing quote of a JSON string whose opening quote is at `open`. */
function findQuotedEnd(path: string, open: number): number {
  if (path[open] !== '"') throw new PathSyntaxError(`expected '"' after "[" at offset ${open}`, path);
  for (let i = open + 1; i < path.length; i++) {
    if (path[i] === '\\') i++;
    else if (path[i] === '"') return i;
  }
  throw new PathSyntaxError(`unterminated quoted segment starting at offset ${open}`, path);
}

/** The first segment: the fact's category (`os`, `library`, ...). Cheap: no full parse for bare heads. */
export function categoryOf(path: string): string {
  const match = /^[A-Za-z0-9_-]+/.exec(path);
  if (match && (path.length === match[0].length || path[match[0].length] === '.' || path[match[0].length] === '[')) {
    return match[0];
  }
  return parsePath(path)[0] as string;
}

/** True when `path` is a syntactically valid fact path. */
export function isValidPath(path: string): boolean {
  try {
    parsePath(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The one spelling of a path: `formatPath(parsePath(path))`. The syntax allows others (a bare
 * segment quoted, `library.dpkg["openssl"]`, or JSON escapes such as `["a\u002eb"]`), and each
 * would be a different key for the same fact, so the aggregator accepts only this one.
 * Throws PathSyntaxError when `path` is not a valid path.
 */
export function canonicalPath(path: string): string {
  if (BARE_PATH.test(path)) return path;
  return formatPath(parsePath(path));
}

/** True when `path` is a valid fact path written in its canonical spelling (see canonicalPath). */
export function isCanonicalPath(path: string): boolean {
  if (BARE_PATH.test(path)) return true;
  try {
    return formatPath(parsePath(path)) === path;
  } catch {
    return false;
  }
}
