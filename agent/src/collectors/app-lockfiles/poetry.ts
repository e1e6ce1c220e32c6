/**
 * poetry.lock (TOML): every `[[package]]` table with its `name` and `version`. Names are
 * normalized per PEP 503. The lock does not say which packages are direct (pyproject.toml does).
 */
import { loadSmolToml } from '../../lazy-packages.js';
import { isRecord, normalizePythonName } from './common.js';
import type { LockedPackage, ParsedLockfile } from './types.js';

export function parsePoetryLock(text: string): ParsedLockfile {
  const doc = loadSmolToml().parse(text);
  const meta: Record<string, string> = {};
  const lockVersion = isRecord(doc.metadata) ? doc.metadata['lock-version'] : undefined;
  if (typeof lockVersion === 'string') meta.format = `poetry-${lockVersion}`;
  const packages: LockedPackage[] = [];
  const tables = Array.isArray(doc.package) ? doc.package : [];
  for (const table of tables) {
    if (!isRecord(table) || typeof table.name !== 'string' || typeof table.version !== 'string') continue;
    if (table.name === '' || table.version === '') continue;
    packages.push({ ecosystem: 'pypi', name: normalizePythonName(table.name), version: table.version });
  }
  return { packages, meta };
}
