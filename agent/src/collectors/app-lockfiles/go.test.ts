import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseGoMod } from './go-mod.js';
import { parseGoSum } from './go-sum.js';
import type { LockedPackage } from './types.js';

const SUM = parseGoSum(await readFile('/work/shared/fixtures/gomod/go.sum', 'utf8'));
const MOD = parseGoMod(await readFile('/work/shared/fixtures/gomod/go.mod', 'utf8'));

function versionsOf(packages: LockedPackage[], name: string): string[] {
  return packages
    .filter((p) => p.name === name)
    .map((p) => p.version)
    .sort();
}

describe('parseGoSum on the gomod fixture', () => {
  const { packages } = SUM;

  it('keeps full-hash lines only', () => {
    // awk: 138 lines; 66 (module, version) pairs without `/go.mod`, 65 distinct modules;
    // stretchr/objx and x/tools have only `/go.mod` lines.
    expect(packages).toHaveLength(66);
    expect(new Set(packages.map((p) => p.name)).size).toBe(65);
    expect(versionsOf(packages, 'github.com/stretchr/objx')).toEqual([]);
    expect(versionsOf(packages, 'golang.org/x/tools')).toEqual([]);
    expect(packages.some((p) => p.version.endsWith('/go.mod'))).toBe(false);
    expect(packages.filter((p) => p.version.endsWith('+incompatible'))).toHaveLength(8);
  });

  it('gets exact versions', () => {
    expect(versionsOf(packages, 'gopkg.in/yaml.v2')).toEqual(['v2.2.1', 'v2.2.2']);
    expect(versionsOf(packages, 'github.com/go-ini/ini')).toEqual(['v1.38.1']); // v1.25.4 is /go.mod only
    expect(versionsOf(packages, 'golang.org/x/net')).toEqual(['v0.0.0-20190311183353-d8887717615a']);
    expect(versionsOf(packages, 'github.com/docker/docker')).toEqual(['v1.4.2-0.20180531152204-71cd53e4a197']);
    expect(versionsOf(packages, 'k8s.io/kubernetes')).toEqual(['v1.11.4']);
    expect(versionsOf(packages, 'cloud.google.com/go')).toEqual(['v0.25.0']);
    expect(packages.every((p) => p.direct === undefined)).toBe(true);
  });
});

describe('parseGoMod on the gomod fixture', () => {
  const { packages, meta } = MOD;

  it('reads the require block and the indirect marks', () => {
    // grep: 48 requirements, 10 without `// indirect`.
    expect(packages).toHaveLength(48);
    expect(packages.filter((p) => p.direct)).toHaveLength(10);
    expect(meta).toEqual({ module: 'github.com/google/go-containerregistry', go: '1.13' });
  });

  it('gets exact versions and direct flags', () => {
    const byName = new Map(packages.map((p) => [p.name, p]));
    expect(byName.get('github.com/google/go-cmp')).toMatchObject({ version: 'v0.2.0', direct: true });
    expect(byName.get('github.com/pkg/errors')).toMatchObject({ version: 'v0.8.0', direct: true });
    expect(byName.get('k8s.io/kubernetes')).toMatchObject({ version: 'v1.11.4', direct: true });
    expect(byName.get('github.com/spf13/cobra')).toMatchObject({
      version: 'v0.0.3-0.20180412120829-615425954c3b',
      direct: true,
    });
    expect(byName.get('cloud.google.com/go')).toMatchObject({ version: 'v0.25.0', direct: false });
    expect(byName.get('gotest.tools')).toMatchObject({ version: 'v2.2.0+incompatible', direct: false });
    expect(byName.has('gopkg.in/yaml.v2')).toBe(false);
  });

  it('every go.mod requirement has a full go.sum line with the same version', () => {
    const sumPairs = new Set(SUM.packages.map((p) => `${p.name} ${p.version}`));
    for (const p of packages) expect(sumPairs.has(`${p.name} ${p.version}`)).toBe(true);
  });

  it('reads single-line requires, toolchain and comments', () => {
    const mod = [
      'module example.com/app // the app',
      '',
      'go 1.22.0',
      'toolchain go1.22.3',
      '',
      'require example.com/one v1.0.0',
      'require example.com/two v2.1.0 // indirect',
      'require (',
      '\t// a comment line',
      '\texample.com/three/v3 v3.0.0',
      ')',
      'replace example.com/one => ../one',
      'exclude (',
      '\texample.com/four v0.1.0',
      ')',
    ].join('\n');
    expect(parseGoMod(mod)).toEqual({
      packages: [
        { ecosystem: 'go', name: 'example.com/one', version: 'v1.0.0', direct: true },
        { ecosystem: 'go', name: 'example.com/two', version: 'v2.1.0', direct: false },
        { ecosystem: 'go', name: 'example.com/three/v3', version: 'v3.0.0', direct: true },
      ],
      meta: { module: 'example.com/app', go: '1.22.0', toolchain: 'go1.22.3' },
    });
  });
});
