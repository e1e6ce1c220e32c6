import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parsePipfileLock } from './pipfile.js';

const FIXTURE = '/work/shared/fixtures/pipfile/Pipfile.lock';
const fixture = parsePipfileLock(await readFile(FIXTURE, 'utf8'));

describe('parsePipfileLock on the pipfile fixture', () => {
  const { packages, meta } = fixture;
  const versions = new Map<string, Set<string>>();
  for (const p of packages) versions.set(p.name, new Set([...(versions.get(p.name) ?? []), p.version]));

  it('reads default and develop', () => {
    // python json: 11 default + 16 develop entries; typing-extensions and mypy-extensions are in
    // both with the same version, so 25 distinct names.
    expect(packages).toHaveLength(27);
    expect(versions.size).toBe(25);
    expect(meta).toEqual({ format: 'pipfile-spec-6' });
  });

  it('strips == and keeps pre-release and four-part versions', () => {
    expect(versions.get('requests')).toEqual(new Set(['2.26.0']));
    expect(versions.get('black')).toEqual(new Set(['21.9b0']));
    expect(versions.get('pylint')).toEqual(new Set(['3.0.0a4']));
    expect(versions.get('typing-extensions')).toEqual(new Set(['3.10.0.2']));
    expect(versions.get('mypy-extensions')).toEqual(new Set(['0.4.3']));
    expect(versions.get('dataclasses-json')).toEqual(new Set(['0.5.6']));
    expect(versions.get('regex')).toEqual(new Set(['2021.8.28']));
    expect(packages.some((p) => p.version.startsWith('='))).toBe(false);
  });

  it('reports a git ref, skips editable paths, normalizes names', () => {
    const lock = JSON.stringify({
      _meta: { 'pipfile-spec': 6 },
      default: {
        Foo_Bar: { version: '==1.0' },
        gitpkg: { git: 'https://github.com/o/r.git', ref: '0123abcd' },
        local: { editable: true, path: '.' },
      },
    });
    expect(parsePipfileLock(lock).packages).toEqual([
      { ecosystem: 'pypi', name: 'foo-bar', version: '1.0' },
      { ecosystem: 'pypi', name: 'gitpkg', version: '0123abcd' },
    ]);
  });
});
