/**
 * Copies of strings that no longer keep a large text alive. V8 makes a slice, trim or regex capture
 * of 13 or more characters a view into the string it came from: a package version sliced out of
 * dpkg's status file kept the whole 0.8 MB file in the daemon's heap for as long as the fact lived
 * (every pass's facts are kept until the next one). Facts the agent keeps between passes are
 * detached once, which costs a copy of their own few kilobytes.
 */
import type { FactMap, FactValue } from '@envparity/shared';

/** Below this length V8 copies a substring instead of pointing into its parent. */
const MIN_SLICE_LENGTH = 13;

/** `text` with its own characters: flattening the concatenation copies them out of any parent. */
export function detachedString(text: string): string {
  return text.length < MIN_SLICE_LENGTH ? text : ` ${text}`.slice(1);
}

export function detachedValue(value: FactValue): FactValue {
  if (typeof value === 'string') return detachedString(value);
  if (Array.isArray(value)) return value.map((item) => (typeof item === 'string' ? detachedString(item) : item));
  return value;
}

/** Replaces every string value of `facts` with a detached copy, in place; returns `facts`. */
export function detachFactStrings(facts: FactMap): FactMap {
  for (const [path, value] of Object.entries(facts)) facts[path] = detachedValue(value);
  return facts;
}
