/**
 * Gemfile.lock (Bundler). Gems are the 4-space-indented `name (version)` lines under `specs:` in
 * the GEM, GIT and PATH sections (6-space lines are their dependency constraints). A platform
 * suffix is dropped the way Bundler splits it, at the first `-`: `nokogiri (1.14.3-x86_64-linux)`
 * is `nokogiri` 1.14.3, so the platform variants of one gem fold into one version.
 * Direct: the gems listed under DEPENDENCIES (`  name`, `  name (~> 1.0)`, `  name!`).
 * Meta: `bundledWith` (BUNDLED WITH) and `ruby` (RUBY VERSION), when present.
 */
import { splitLines } from './common.js';
import type { ParsedLockfile } from './types.js';

const SPEC = /^ {4}(\S+) \(([^)]+)\)$/;
const DEPENDENCY = /^ {2}([^\s!]+)!?(?: \(.*\))?$/;
const SOURCE_SECTIONS = new Set(['GEM', 'GIT', 'PATH', 'PLUGIN SOURCE']);

export function parseGemfileLock(text: string): ParsedLockfile {
  const found: Array<{ name: string; version: string }> = [];
  const direct = new Set<string>();
  const meta: Record<string, string> = {};
  let section = '';
  let inSpecs = false;
  for (const line of splitLines(text)) {
    if (/^[A-Z][A-Z ]*$/.test(line)) {
      section = line;
      inSpecs = false;
      continue;
    }
    if (SOURCE_SECTIONS.has(section)) {
      if (/^ {2}\S/.test(line)) inSpecs = line.trim() === 'specs:';
      const spec = inSpecs ? SPEC.exec(line) : null;
      if (spec) found.push({ name: spec[1] as string, version: (spec[2] as string).split('-')[0] as string });
    } else if (section === 'DEPENDENCIES') {
      const dependency = DEPENDENCY.exec(line);
      if (dependency) direct.add(dependency[1] as string);
    } else if (section === 'BUNDLED WITH' && line.trim()) {
      meta.bundledWith = line.trim();
    } else if (section === 'RUBY VERSION' && line.trim()) {
      meta.ruby = line.trim();
    }
  }
  return {
    packages: found.map(({ name, version }) => ({ ecosystem: 'gem', name, version, direct: direct.has(name) })),
    meta,
  };
}
