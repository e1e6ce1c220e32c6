/** Links to the hosts holding a fact value, shared by the fact and environment pages. */
import { canonicalValue, type FactValue } from '@envparity/shared';
import { href } from '../format.js';

/** A value as the host filter's `value` parameter takes it: strings as is, anything else as JSON. */
export function hostFilterValue(value: FactValue): string {
  return typeof value === 'string' ? value : canonicalValue(value);
}

/**
 * `/hosts?env=E&fact=P&value=V`: the hosts (of one environment, or all) whose `path` is `value`.
 * Undefined for a value the host list cannot filter on (it reads an empty or space-padded value as
 * no value), so no link ever shows more hosts than it says.
 */
export function hostsWithValueHref(
  environment: string | undefined,
  path: string,
  value: FactValue,
): string | undefined {
  const text = hostFilterValue(value);
  if (text === '' || text.trim() !== text) return undefined;
  return href('/hosts', { env: environment, fact: path, value: text });
}

/** `/facts?path=P&env=E`: one fact's values, across the fleet or in one environment. */
export function factHref(path: string, environment?: string): string {
  return href('/facts', { path, env: environment });
}
