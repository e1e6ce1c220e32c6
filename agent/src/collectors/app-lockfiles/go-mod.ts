/**
 * go.mod: the `require` directives (block and single-line forms). A requirement marked
 * `// indirect` is transitive, every other one is direct. The `module` path and the `go` and
 * `toolchain` directives are returned as meta. `replace`, `exclude` and `retract` are not read.
 */
import { splitLines } from './common.js';
import type { LockedPackage, ParsedLockfile } from './types.js';

export function parseGoMod(text: string): ParsedLockfile {
  const packages: LockedPackage[] = [];
  const meta: Record<string, string> = {};
  let block: string | undefined;
  for (const raw of splitLines(text)) {
    const comment = raw.indexOf('//');
    const indirect = comment >= 0 && /^\/\/\s*indirect\b/.test(raw.slice(comment));
    const line = (comment >= 0 ? raw.slice(0, comment) : raw).trim();
    if (line === '') continue;
    if (block !== undefined) {
      if (line === ')') {
        block = undefined;
        continue;
      }
      if (block === 'require') addRequirement(line.split(/\s+/), indirect, packages);
      continue;
    }
    const words = line.split(/\s+/);
    const verb = words[0] as string;
    if (words[1] === '(') {
      block = verb;
      continue;
    }
    if (verb === 'require') addRequirement(words.slice(1), indirect, packages);
    else if ((verb === 'module' || verb === 'go' || verb === 'toolchain') && words[1]) {
      meta[verb] = unquote(words[1]);
    }
  }
  return { packages, meta };
}

function addRequirement(words: string[], indirect: boolean, out: LockedPackage[]): void {
  const [module, version] = words;
  if (!module || !version) return;
  out.push({ ecosystem: 'go', name: unquote(module), version: unquote(version), direct: !indirect });
}

function unquote(word: string): string {
  return /^".*"$|^`.*`$/.test(word) ? word.slice(1, -1) : word;
}
