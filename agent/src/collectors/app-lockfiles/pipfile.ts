/**
 * Pipfile.lock (JSON, pipenv): the `default` and `develop` sections, name -> { version: "==x" }.
 * The `==` prefix is stripped. A git entry without a version reports its `ref`; entries with
 * neither (editable local paths) are skipped. Names are normalized per PEP 503. A package in both
 * sections is one package. The file does not say which packages are direct (the Pipfile does).
 */
import { isRecord, normalizePythonName } from './common.js';
import type { LockedPackage, ParsedLockfile } from './types.js';

const SECTIONS = ['default', 'develop'] as const;

export function parsePipfileLock(text: string): ParsedLockfile {
  const doc: unknown = JSON.parse(text);
  if (!isRecord(doc)) throw new Error('the top level is not a JSON object');
  const meta: Record<string, string> = {};
  const spec = isRecord(doc._meta) ? doc._meta['pipfile-spec'] : undefined;
  if (typeof spec === 'number' || typeof spec === 'string') meta.format = `pipfile-spec-${spec}`;
  const packages: LockedPackage[] = [];
  for (const section of SECTIONS) {
    const entries = doc[section];
    if (!isRecord(entries)) continue;
    for (const [name, entry] of Object.entries(entries)) {
      if (!isRecord(entry)) continue;
      let version: string | undefined;
      if (typeof entry.version === 'string') version = entry.version.replace(/^===?/, '').trim();
      else if (typeof entry.ref === 'string') version = entry.ref;
      if (!version) continue;
      packages.push({ ecosystem: 'pypi', name: normalizePythonName(name), version });
    }
  }
  return { packages, meta };
}
