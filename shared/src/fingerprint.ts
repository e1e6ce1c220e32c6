/**
 * Fingerprints: `ep1:` + sha256(canonical encoding of the behavior facts). Same fingerprint = same
 * behavior-relevant environment, whatever the key order, the collection time or the host identity.
 * Identity, volatile and scale facts are left out, so two hosts of different size but identical
 * software and configuration share a fingerprint. The `ep1` prefix versions the format.
 */
import { createHash } from 'node:crypto';
import { canonicalEncode } from './canonical.js';
import { type Classifier, createClassifier } from './classes.js';
import { type FactMap, groupByCategory } from './facts.js';
import { categoryOf } from './paths.js';

export const FINGERPRINT_VERSION = 'ep1';

export interface Fingerprints {
  /** Over every behavior fact of the map. */
  overall: string;
  /** One per category that holds at least one behavior fact. */
  categories: Record<string, string>;
}

const defaultClassifier = createClassifier();

function digest(text: string): string {
  return `${FINGERPRINT_VERSION}:${createHash('sha256').update(text, 'utf8').digest('hex')}`;
}

/** Overall and per-category fingerprints of the behavior facts in `facts`. */
export function fingerprintFacts(facts: FactMap, classify: Classifier = defaultClassifier): Fingerprints {
  const behavior: FactMap = {};
  for (const [path, value] of Object.entries(facts)) {
    if (classify(path) === 'behavior') behavior[path] = value;
  }
  const byCategory = groupByCategory(behavior, categoryOf);
  const categories: Record<string, string> = {};
  for (const category of [...byCategory.keys()].sort()) {
    categories[category] = digest(canonicalEncode(byCategory.get(category) as FactMap));
  }
  return { overall: digest(canonicalEncode(behavior)), categories };
}

/** Fingerprint of one category's facts (all of them, as given): used for delta bookkeeping. */
export function fingerprintMap(facts: FactMap): string {
  return digest(canonicalEncode(facts));
}

/** `fingerprintMap({})`: what a category a host does not hold (or holds empty) is worth. */
export const EMPTY_CATEGORY_HASH = fingerprintMap({});
