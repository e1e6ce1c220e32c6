/**
 * Turning a probe's result into facts.
 *
 * Success (exit 0), with the output trimmed:
 * - a decimal number -> `probe.<name>` = number;
 * - a JSON object or array -> flattened under `probe.<name>.<key>...` (same rules as config files:
 *   short scalar arrays stay one value, keys starting with `#` are escaped to `##`, values under
 *   secret-named keys are hashed); a root array of scalars is `probe.<name>` itself;
 * - anything else -> `probe.<name>` = the text, cut to its first 1 KiB (UTF-8 bytes).
 * Failure -> `probe.<name>.error` only: `timeout after 5 s`, `exit 3: <first stderr line>`,
 * `killed by SIGKILL` or `spawn failed: ENOENT`.
 * A probe whose name matches the `secrets` globs has its whole value hashed.
 */
import { type FactMap, factPath } from '@envparity/shared';
import type { ExecResult } from '../exec.js';
import type { SecretHasher } from '../secrets.js';
import { flattenInto } from './config-flatten.js';

export const MAX_PROBE_TEXT_BYTES = 1024;
const MAX_ERROR_DETAIL_CHARS = 200;
const NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/** Cuts text to at most `maxBytes` UTF-8 bytes without splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  // Back up over continuation bytes (10xxxxxx) so the cut lands on a character boundary.
  while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

/** A number when the whole text is one (and survives as a JSON number), else undefined. */
export function parseNumber(text: string): number | undefined {
  if (!NUMBER.test(text)) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value)) return undefined;
  if (/^[-+]?\d+$/.test(text) && !Number.isSafeInteger(value)) return undefined;
  return value;
}

function parseJsonContainer(text: string): unknown {
  if (!/^[[{]/.test(text)) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Facts of a successful probe from its stdout. */
export function probeOutputFacts(name: string, stdout: string, secrets: SecretHasher): FactMap {
  const facts: FactMap = {};
  const text = stdout.trim();
  const secret = secrets.isSecretName(name);
  const number = parseNumber(text);
  if (number !== undefined) {
    facts[factPath('probe', name)] = secret ? secrets.hash(text) : number;
    return facts;
  }
  const data = parseJsonContainer(text);
  if (data !== undefined && flattenInto(facts, ['probe', name], data, { secrets, secret }) > 0) return facts;
  facts[factPath('probe', name)] = secret ? secrets.hash(text) : truncateUtf8(text, MAX_PROBE_TEXT_BYTES);
  return facts;
}

/** One line saying why a probe failed, or undefined when it succeeded. */
export function probeFailure(result: ExecResult, timeoutSeconds: number): string | undefined {
  if (result.timedOut) return `timeout after ${timeoutSeconds} s`;
  if (result.code === 0) return undefined;
  if (result.code === null) return `killed by ${result.signal ?? 'a signal'}`;
  const line = result.stderr
    .split('\n')
    .map((l) => l.trim())
    .find(Boolean);
  return line ? `exit ${result.code}: ${line.slice(0, MAX_ERROR_DETAIL_CHARS)}` : `exit ${result.code}`;
}

/** The failure fact of a probe. */
export function probeErrorFacts(name: string, message: string): FactMap {
  return { [factPath('probe', name, 'error')]: message };
}
