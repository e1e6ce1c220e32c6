import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseKey, parsePnpmLock, parseV5Key } from './pnpm.js';

const FIXTURE = '/work/shared/fixtures/pnpm/pnpm-lock.yaml';
const fixture = parsePnpmLock(await readFile(FIXTURE, 'utf8'));

function versionMap(packages: { name: string; version: string }[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const p of packages) map.set(p.name, [...(map.get(p.name) ?? []), p.version]);
  return map;
}

describe('parsePnpmLock on the pnpm v9 fixture', () => {
  const { packages, meta } = fixture;
  const versions = versionMap(packages);

  it('reads every `packages` key, one version each', () => {
    // python: 64 keys under `packages:` (64 more under `snapshots:`, ignored), 64 distinct names.
    expect(packages).toHaveLength(64);
    expect(versions.size).toBe(64);
    expect(meta).toEqual({ format: 'pnpm-9.0' });
  });

  it('gets exact versions without peer suffixes', () => {
    expect(versions.get('@emotion/react')).toEqual(['11.14.0']);
    expect(versions.get('@emotion/use-insertion-effect-with-fallbacks')).toEqual(['1.2.0']);
    expect(versions.get('react')).toEqual(['18.3.1']);
    expect(versions.get('typescript')).toEqual(['5.7.2']);
    expect(versions.get('csstype')).toEqual(['3.1.3']);
    expect(versions.get('@babel/code-frame')).toEqual(['7.26.2']);
    expect(versions.get('@babel/generator')).toEqual(['7.26.9']);
    expect(packages.some((p) => p.version.includes('('))).toBe(false);
  });

  it('marks the importer dependencies as direct', () => {
    expect(
      packages
        .filter((p) => p.direct)
        .map((p) => p.name)
        .sort(),
    ).toEqual(['@emotion/react', 'react', 'typescript']);
  });
});

describe('pnpm key formats', () => {
  it('parses v6 and v9 keys', () => {
    expect(parseKey('/@babel/core@7.22.10(supports-color@8.0.0)')).toEqual({ name: '@babel/core', version: '7.22.10' });
    expect(parseKey('/lodash@4.17.21')).toEqual({ name: 'lodash', version: '4.17.21' });
    expect(parseKey('@emotion/react@11.14.0(react@18.3.1)')).toEqual({ name: '@emotion/react', version: '11.14.0' });
    expect(parseKey('github.com/a/b/0123abc')).toBeUndefined();
  });

  it('parses v5 keys', () => {
    expect(parseV5Key('/lodash/4.17.21')).toEqual({ name: 'lodash', version: '4.17.21' });
    expect(parseV5Key('/@babel/core/7.0.0')).toEqual({ name: '@babel/core', version: '7.0.0' });
    expect(parseV5Key('/my_pkg/1.0.0_react-dom@17.0.2+react@17.0.2')).toEqual({ name: 'my_pkg', version: '1.0.0' });
    expect(parseV5Key('/@types/x/1.0.0_@types+react@17.0.0')).toEqual({ name: '@types/x', version: '1.0.0' });
  });

  it('reads a v5 file with top-level dependencies and a git package', () => {
    const lock = [
      'lockfileVersion: 5.4',
      '',
      'specifiers:',
      '  a: ^1.0.0',
      '  local: link:../local',
      '',
      'dependencies:',
      '  a: 1.0.0_react@17.0.2',
      '  local: link:../local',
      '',
      'devDependencies:',
      '  gitdep: github.com/o/gitdep/0123abcd',
      '',
      'packages:',
      '',
      '  /a/1.0.0_react@17.0.2:',
      '    resolution: {integrity: sha512-x}',
      '    dev: false',
      '',
      '  /b/2.0.0:',
      '    resolution: {integrity: sha512-y}',
      '    dev: false',
      '',
      '  github.com/o/gitdep/0123abcd:',
      '    resolution: {tarball: https://codeload.github.com/o/gitdep/tar.gz/0123abcd}',
      '    name: gitdep',
      '    version: 3.1.0',
      '    dev: true',
      '',
    ].join('\n');
    const result = parsePnpmLock(lock);
    expect(result.meta).toEqual({ format: 'pnpm-5.4' });
    expect(result.packages).toEqual([
      { ecosystem: 'npm', name: 'a', version: '1.0.0', direct: true },
      { ecosystem: 'npm', name: 'b', version: '2.0.0', direct: false },
      { ecosystem: 'npm', name: 'gitdep', version: '3.1.0', direct: true },
    ]);
  });

  it('reads a v6 file with importers', () => {
    const lock = [
      "lockfileVersion: '6.0'",
      '',
      'importers:',
      '  .:',
      '    dependencies:',
      '      a:',
      '        specifier: ^1.0.0',
      '        version: 1.0.0(react@18.0.0)',
      '  packages/web:',
      '    devDependencies:',
      "      '@s/b':",
      '        specifier: ^2.0.0',
      '        version: 2.0.0',
      '      sibling:',
      '        specifier: workspace:*',
      '        version: link:../sibling',
      '',
      'packages:',
      '',
      '  /a@1.0.0(react@18.0.0):',
      '    resolution: {integrity: sha512-x}',
      '',
      '  /@s/b@2.0.0:',
      '    resolution: {integrity: sha512-y}',
      '',
      '  /@s/b@2.1.0:',
      '    resolution: {integrity: sha512-z}',
      '',
    ].join('\n');
    const result = parsePnpmLock(lock);
    expect(result.packages).toEqual([
      { ecosystem: 'npm', name: 'a', version: '1.0.0', direct: true },
      { ecosystem: 'npm', name: '@s/b', version: '2.0.0', direct: true },
      { ecosystem: 'npm', name: '@s/b', version: '2.1.0', direct: true },
    ]);
  });
});
