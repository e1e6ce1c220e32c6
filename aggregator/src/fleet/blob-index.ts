/**
 * Content-addressed category blobs with reference counts. A blob's hash is `fingerprintMap()` of the
 * category, so the same package list on 500 hosts is held once; it lives while a (host, category)
 * points at it. The behavior encoding (and its fingerprint) is cached for blobs that are shared or
 * large: a blob never changes, so neither can go stale, and a host's fingerprint costs one sha256
 * over cached text. A small blob only one host holds (its addresses, its identity) is encoded again
 * when that host's fingerprint is: a few µs, where caching it cost ~2.7 KB of text per host.
 */
import { type Classifier, compareStrings, EMPTY_FACTS, type FactMap, type FactValue } from '@envparity/shared';
import {
  behaviorEncoding,
  type CategoryPiece,
  categoryFingerprint,
  composeFingerprints,
  type HostFingerprints,
} from './compose-fingerprints.js';

interface BlobEntry {
  facts: Readonly<FactMap>;
  /** How many (host, category) pairs point at this blob; at 0 it is dropped. */
  refs: number;
}

/** An encoding at least this long is kept even when one host holds the blob (re-encoding it costs more). */
export const CACHED_UNSHARED_ENCODING_CHARS = 4096;

interface BlobEncoding {
  encoding: string;
  fingerprint: string | undefined;
}

/** A frozen copy of a fact map with its keys in canonical order (also the stored JSON's order). */
export function canonicalCopy(facts: Readonly<FactMap>): Readonly<FactMap> {
  const copy: FactMap = {};
  for (const path of Object.keys(facts).sort(compareStrings)) {
    const value = facts[path] as FactValue;
    copy[path] = Array.isArray(value) ? (Object.freeze([...value]) as FactValue) : value;
  }
  return Object.freeze(copy);
}

export class BlobIndex {
  readonly #blobs = new Map<string, BlobEntry>();
  readonly #encodings = new Map<string, BlobEncoding>();

  constructor(private readonly classify: Classifier) {}

  facts(hash: string): Readonly<FactMap> | undefined {
    return this.#blobs.get(hash)?.facts;
  }

  /** How many blobs have their encoding cached (tests read it). */
  get cachedEncodings(): number {
    return this.#encodings.size;
  }

  /** References held now (0 for an unknown blob). */
  refs(hash: string): number {
    return this.#blobs.get(hash)?.refs ?? 0;
  }

  /** A blob read back at open, with the references the hosts hold to it. */
  load(hash: string, facts: Readonly<FactMap>, refs: number): void {
    this.#blobs.set(hash, { facts: canonicalCopy(facts), refs });
  }

  /** After a commit: new blobs are held, reference counts move, blobs nobody holds are dropped. */
  commit(newBlobs: ReadonlyMap<string, Readonly<FactMap>>, refDelta: ReadonlyMap<string, number>): void {
    for (const [hash, facts] of newBlobs) if (!this.#blobs.has(hash)) this.#blobs.set(hash, { facts, refs: 0 });
    for (const [hash, by] of refDelta) {
      const entry = this.#blobs.get(hash);
      if (!entry) continue;
      entry.refs += by;
      if (entry.refs <= 0) {
        this.#blobs.delete(hash);
        this.#encodings.delete(hash);
      }
    }
  }

  /** After a failed commit: encodings cached for blobs that were never stored are let go. */
  discard(newBlobs: Iterable<string>): void {
    for (const hash of newBlobs) if (!this.#blobs.has(hash)) this.#encodings.delete(hash);
  }

  /** Overall and per-category behavior fingerprints of a host's categories. */
  fingerprints(
    categories: ReadonlyMap<string, string>,
    blobOf: (hash: string) => Readonly<FactMap> | undefined,
  ): HostFingerprints {
    const pieces: CategoryPiece[] = [];
    for (const [category, hash] of categories) {
      const facts = blobOf(hash) ?? EMPTY_FACTS;
      let cached = this.#encodings.get(hash);
      if (cached === undefined) {
        cached = { encoding: behaviorEncoding(facts, this.classify), fingerprint: undefined };
        if (this.refs(hash) >= 2 || cached.encoding.length >= CACHED_UNSHARED_ENCODING_CHARS) {
          this.#encodings.set(hash, cached);
        }
      }
      // A cached blob's own fingerprint is computed once; the overall one is computed per host.
      cached.fingerprint ??= categoryFingerprint(cached.encoding);
      pieces.push({ category, facts, encoding: cached.encoding, fingerprint: cached.fingerprint });
    }
    return composeFingerprints(pieces, this.classify);
  }
}
