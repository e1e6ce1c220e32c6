/**
 * requirements.txt (pip, pip-compile). One requirement per logical line (a trailing `\` joins
 * the next line). Ignored: blank lines, comments (`#` at the start or after whitespace), option
 * lines (`-r`, `-c`, `-e`, `-i`, `--index-url`, ...), trailing per-requirement options
 * (`--hash=...`), environment markers (`; python_version < "3.8"`), extras (`name[extra]`) and
 * lines that are bare paths or URLs without a name.
 *
 * Version: a pin (`name==1.2.3` or `name===1.2.3`) gives `1.2.3`. Anything else is recorded as its
 * specifier, whitespace removed: `>=1.0,<2`, `==1.*`, `~=2.2`, `@ git+https://host/repo.git` for a
 * direct reference, `*` when there is no specifier. Names are normalized per PEP 503.
 * The format does not say which packages are direct.
 */
import { normalizePythonName, splitLines } from './common.js';
import type { LockedPackage, ParsedLockfile } from './types.js';

const REQUIREMENT = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?\s*(.*)$/;
const PIN = /^===?\s*([^\s,;*]+)$/;

export function parseRequirements(text: string): ParsedLockfile {
  const packages: LockedPackage[] = [];
  for (const line of logicalLines(text)) {
    const requirement = parseRequirementLine(line);
    if (requirement) packages.push({ ecosystem: 'pypi', ...requirement });
  }
  return { packages, meta: {} };
}

/** Joins backslash continuations. */
function logicalLines(text: string): string[] {
  const out: string[] = [];
  let pending = '';
  for (const raw of splitLines(text)) {
    if (/(^|[^\\])\\$/.test(raw) && !/(^|\s)#/.test(raw)) {
      pending += `${raw.slice(0, -1)} `;
      continue;
    }
    out.push(pending + raw);
    pending = '';
  }
  if (pending) out.push(pending);
  return out;
}

/** Parses one logical line; undefined for comments, options and lines without a package name. */
export function parseRequirementLine(line: string): { name: string; version: string } | undefined {
  let text = line.replace(/(^|\s)#.*$/, '').trim();
  if (text === '' || text.startsWith('-')) return undefined;
  // Trailing options (`--hash=sha256:...`) and environment markers.
  const option = /\s--?[A-Za-z]/.exec(text);
  if (option) text = text.slice(0, option.index);
  const marker = text.indexOf(';');
  if (marker >= 0) text = text.slice(0, marker);
  const match = REQUIREMENT.exec(text.trim());
  if (!match) return undefined;
  const name = normalizePythonName(match[1] as string);
  const rest = (match[2] as string).trim();
  if (rest === '') return { name, version: '*' };
  if (rest.startsWith('@')) {
    const url = rest.slice(1).trim();
    return url ? { name, version: `@ ${url}` } : undefined;
  }
  // A bare path or URL (`./pkg`, `https://...`, `git+https://...`) is not `name specifier`.
  if (!/^[=<>!~(]/.test(rest)) return undefined;
  const specifier = rest.replace(/^\((.*)\)$/, '$1').replace(/\s+/g, '');
  const pin = PIN.exec(specifier);
  return { name, version: pin ? (pin[1] as string) : specifier };
}
