import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parsePoetryLock } from './poetry.js';

const FIXTURE = '/work/shared/fixtures/poetry/poetry.lock';
const fixture = parsePoetryLock(await readFile(FIXTURE, 'utf8'));

describe('parsePoetryLock on the poetry fixture', () => {
  const { packages, meta } = fixture;
  const versions = new Map(packages.map((p) => [p.name, p.version]));

  it('reads every [[package]] table', () => {
    // grep -c '^\[\[package\]\]': 11, all names distinct.
    expect(packages).toHaveLength(11);
    expect(versions.size).toBe(11);
    expect(meta).toEqual({ format: 'poetry-2.0' });
  });

  it('gets exact versions under PEP 503 names', () => {
    expect(versions.get('certifi')).toBe('2022.12.7');
    expect(versions.get('charset-normalizer')).toBe('2.1.1');
    expect(versions.get('flask')).toBe('1.1.4');
    expect(versions.get('jinja2')).toBe('2.11.3');
    expect(versions.get('markupsafe')).toBe('2.1.2');
    expect(versions.get('werkzeug')).toBe('1.0.1');
    expect(versions.get('urllib3')).toBe('1.26.14');
    expect(packages.every((p) => p.direct === undefined)).toBe(true);
  });

  it('normalizes names and throws on bad TOML', () => {
    const lock = '[[package]]\nname = "Zope.Interface"\nversion = "6.0"\n\n[metadata]\nlock-version = "1.1"\n';
    expect(parsePoetryLock(lock)).toEqual({
      packages: [{ ecosystem: 'pypi', name: 'zope-interface', version: '6.0' }],
      meta: { format: 'poetry-1.1' },
    });
    expect(() => parsePoetryLock('[[package]\nname=')).toThrow();
  });
});
