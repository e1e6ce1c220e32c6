import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { LockedPackage } from './types.js';
import { parseYarnLock } from './yarn.js';
import { isYarnBerry, parseYarnBerry } from './yarn-berry.js';
import { parseYarnV1 } from './yarn-v1.js';

const V1 = '/work/shared/fixtures/yarn-v1/yarn.lock';
const BERRY = '/work/shared/fixtures/yarn-berry/yarn.lock';

function versionsOf(packages: LockedPackage[], name: string): string[] {
  return [...new Set(packages.filter((p) => p.name === name).map((p) => p.version))].sort();
}

const v1Text = await readFile(V1, 'utf8');
const berryText = await readFile(BERRY, 'utf8');

describe('parseYarnV1 on the yarn-v1 fixture', () => {
  const text = v1Text;
  const { packages, meta } = parseYarnV1(text);

  it('reads every block, one record per descriptor', () => {
    // grep: 47 block headers; 53 descriptors (some headers list several); 47 distinct names,
    // each with one version.
    expect(packages).toHaveLength(53);
    const names = new Set(packages.map((p) => p.name));
    expect(names.size).toBe(47);
    for (const name of names) expect(versionsOf(packages, name)).toHaveLength(1);
    expect(meta).toEqual({ format: 'yarn-v1' });
  });

  it('gets exact versions', () => {
    expect(versionsOf(packages, '@angular/compiler-cli')).toEqual(['9.1.13']);
    expect(versionsOf(packages, 'graceful-fs')).toEqual(['4.2.4']);
    expect(versionsOf(packages, 'typescript')).toEqual(['3.7.5']); // key `typescript@3.7`
    expect(versionsOf(packages, 'fsevents')).toEqual(['2.3.1']); // an optional dependency
    expect(versionsOf(packages, 'yargs')).toEqual(['16.2.0']);
  });

  it('leaves direct unknown and is chosen by parseYarnLock', () => {
    expect(packages.every((p) => p.direct === undefined)).toBe(true);
    expect(isYarnBerry(text)).toBe(false);
    expect(parseYarnLock(text)).toEqual({ packages, meta });
  });

  it('reports an alias under its installed name and several versions of one name', () => {
    const lock = [
      '# yarn lockfile v1',
      '',
      '"@s/x@^1.0.0", "@s/x@^1.1.0":',
      '  version "1.2.0"',
      '',
      '"@s/x@^2.0.0":',
      '  version "2.0.1"',
      '',
      '"foo@npm:bar@^1":',
      '  version "1.0.0"',
      '',
    ].join('\n');
    const result = parseYarnV1(lock);
    expect(versionsOf(result.packages, '@s/x')).toEqual(['1.2.0', '2.0.1']);
    expect(versionsOf(result.packages, 'foo')).toEqual(['1.0.0']);
  });
});

describe('parseYarnBerry on the yarn-berry fixture', () => {
  const text = berryText;
  const { packages, meta } = parseYarnBerry(text);

  it('reads every npm entry and skips __metadata and the workspace', () => {
    // grep: 27 entry keys besides __metadata, one of them the workspace `@workspace:.`; 26 left.
    expect(packages).toHaveLength(26);
    expect(new Set(packages.map((p) => p.name)).size).toBe(26);
    expect(packages.some((p) => p.name === 'dependabot-axios-security-test' || p.name === '__metadata')).toBe(false);
    expect(packages.some((p) => p.version === '0.0.0-use.local')).toBe(false);
    expect(meta).toEqual({ format: 'yarn-berry-v8' });
    expect(isYarnBerry(text)).toBe(true);
    expect(parseYarnLock(text)).toEqual({ packages, meta });
  });

  it('gets exact versions, including multi-descriptor keys', () => {
    expect(versionsOf(packages, 'axios')).toEqual(['1.15.0']);
    expect(versionsOf(packages, 'call-bind-apply-helpers')).toEqual(['1.0.2']);
    expect(versionsOf(packages, 'follow-redirects')).toEqual(['1.16.0']);
    expect(versionsOf(packages, 'form-data')).toEqual(['4.0.5']);
    expect(versionsOf(packages, 'mime-db')).toEqual(['1.52.0']);
    expect(versionsOf(packages, 'proxy-from-env')).toEqual(['2.1.0']);
  });

  it('marks the workspace dependency as direct', () => {
    expect(packages.filter((p) => p.direct).map((p) => p.name)).toEqual(['axios']);
  });

  it('handles scoped descriptors, patches and links', () => {
    const lock = [
      '__metadata:',
      '  version: 6',
      '',
      '"@babel/core@npm:^7.0.0, @babel/core@npm:^7.1.0":',
      '  version: 7.22.10',
      '  resolution: "@babel/core@npm:7.22.10"',
      '',
      '"resolve@patch:resolve@npm%3A^1.20.0#~builtin<compat/resolve>":',
      '  version: 1.22.1',
      '  resolution: "resolve@patch:resolve@npm%3A1.22.1#~builtin<compat/resolve>::version=1.22.1&hash=07638b"',
      '',
      '"resolve@npm:^1.20.0":',
      '  version: 1.22.1',
      '  resolution: "resolve@npm:1.22.1"',
      '',
      '"lib@link:../lib::locator=app%40workspace%3A.":',
      '  version: 0.0.0-use.local',
      '  resolution: "lib@link:../lib::locator=app%40workspace%3A."',
      '  linkType: soft',
      '',
      '"ten@npm:^1.10":',
      '  version: 1.10',
      '  resolution: "ten@npm:1.10"',
      '',
    ].join('\n');
    const result = parseYarnBerry(lock);
    expect(result.meta).toEqual({ format: 'yarn-berry-v6' });
    expect(result.packages.map((p) => `${p.name} ${p.version}`)).toEqual([
      '@babel/core 7.22.10',
      'resolve 1.22.1',
      'resolve 1.22.1',
      'ten 1.10',
    ]);
  });
});
