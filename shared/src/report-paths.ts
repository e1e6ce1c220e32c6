/**
 * Every path of a report must be a valid fact path of the category it is filed under. Checked before
 * anything is stored, so a confused or hostile agent cannot file `library.*` facts under `os`, or
 * send paths that the classifier, the diff or a JSON object could not handle.
 */
import { canonicalPath, isCanonicalPath, parsePath } from './paths.js';
import type { ReportMessage } from './protocol.js';

/** The category of a valid path, or undefined when the path does not follow the path syntax. */
function categoryOfValidPath(path: string): string | undefined {
  try {
    return parsePath(path)[0];
  } catch {
    return undefined;
  }
}

/**
 * Paths already found valid and canonical, with their category. A fleet reports the same few
 * thousand paths over and over: the check of a known one is a lookup. Bounded (emptied when full),
 * so a host inventing paths cannot grow it.
 */
const knownValidPaths = new Map<string, string>();
const MAX_KNOWN_VALID_PATHS = 50_000;

/** A short description of the first bad path in a report (naming its field), or undefined when all are fine. */
export function findReportPathProblem(report: Pick<ReportMessage, 'full' | 'delta'>): string | undefined {
  const check = (field: string, category: string, path: string): string | undefined => {
    const known = knownValidPaths.get(path);
    const actual = known ?? categoryOfValidPath(path);
    if (actual === undefined) return `${field}: not a valid fact path`;
    if (actual !== category) return `${field}: path of category ${JSON.stringify(actual.slice(0, 32))}`;
    if (known !== undefined) return undefined;
    // One spelling per fact: `library.dpkg["openssl"]` would be a second key for `library.dpkg.openssl`.
    if (!isCanonicalPath(path)) {
      const short = (text: string) => JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}...` : text);
      return `${field}: path ${short(path)} is not canonical; write it as ${short(canonicalPath(path))}`;
    }
    if (knownValidPaths.size >= MAX_KNOWN_VALID_PATHS) knownValidPaths.clear();
    knownValidPaths.set(path, actual);
    return undefined;
  };
  for (const [category, facts] of Object.entries(report.full ?? {})) {
    for (const path of Object.keys(facts)) {
      const problem = check(`full.${category}`, category, path);
      if (problem) return problem;
    }
  }
  for (const [category, delta] of Object.entries(report.delta ?? {})) {
    for (const path of Object.keys(delta.set)) {
      const problem = check(`delta.${category}.set`, category, path);
      if (problem) return problem;
    }
    for (const path of delta.unset) {
      const problem = check(`delta.${category}.unset`, category, path);
      if (problem) return problem;
    }
  }
  return undefined;
}
