/**
 * Host fingerprints from per-category pieces. `fingerprintFacts()` re-encodes every behavior fact of
 * a host, which costs milliseconds for a host with thousands of packages — on every report that
 * changes anything, even an unrelated small category. The canonical encoding is one sorted line per
 * fact, so the encoding of a whole host is the concatenation of its categories' encodings in
 * category order, whenever no category name is a prefix of another (then all paths of one category
 * sort before all paths of the next). Category encodings are cached per content-addressed blob, so a
 * report costs one sha256 over cached text. When a name is a prefix of another (`os`, `os2`), the
 * order can interleave and this falls back to `fingerprintFacts()`. Tests check both paths against
 * `fingerprintFacts()`.
 */
import { createHash } from 'node:crypto';
import {
  type Classifier,
  canonicalEncode,
  compareStrings,
  type FactMap,
  FINGERPRINT_VERSION,
  fingerprintFacts,
} from '@envparity/shared';

export interface HostFingerprints {
  /** Overall behavior fingerprint; null when the host holds no category at all. */
  fingerprint: string | null;
  /** Behavior fingerprint per category that holds at least one behavior fact. */
  fingerprints: Record<string, string>;
}

/** Canonical encoding of a category's behavior facts: the piece cached per blob. */
export function behaviorEncoding(facts: Readonly<FactMap>, classify: Classifier): string {
  return canonicalEncode(facts as FactMap, (path) => classify(path) === 'behavior');
}

function digest(parts: readonly string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part, 'utf8');
  return `${FINGERPRINT_VERSION}:${hash.digest('hex')}`;
}

/** Fingerprint of one category from its `behaviorEncoding()` (undefined when it holds no behavior fact). */
export function categoryFingerprint(encoding: string): string | undefined {
  return encoding === '' ? undefined : digest([encoding]);
}

export interface CategoryPiece {
  category: string;
  /** `behaviorEncoding()` of the category's facts. */
  encoding: string;
  /** `categoryFingerprint(encoding)`, when the caller has it cached (computed here otherwise). */
  fingerprint?: string | undefined;
  facts: Readonly<FactMap>;
}

/** Same result as `fingerprintFacts()` over the merged categories, from cached per-category encodings. */
export function composeFingerprints(pieces: readonly CategoryPiece[], classify: Classifier): HostFingerprints {
  if (pieces.length === 0) return { fingerprint: null, fingerprints: {} };
  const sorted = [...pieces].sort((a, b) => compareStrings(a.category, b.category));
  for (let i = 1; i < sorted.length; i++) {
    if ((sorted[i] as CategoryPiece).category.startsWith((sorted[i - 1] as CategoryPiece).category)) {
      const merged: FactMap = {};
      for (const piece of sorted) Object.assign(merged, piece.facts);
      const { overall, categories } = fingerprintFacts(merged, classify);
      return { fingerprint: overall, fingerprints: categories };
    }
  }
  const fingerprints: Record<string, string> = {};
  for (const piece of sorted) {
    const fingerprint = piece.fingerprint ?? categoryFingerprint(piece.encoding);
    if (fingerprint !== undefined) fingerprints[piece.category] = fingerprint;
  }
  return { fingerprint: digest(sorted.map((piece) => piece.encoding)), fingerprints };
}
