import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parsePackageLock } from './npm.js';
import type { LockedPackage } from './types.js';

const FIXTURE = '/work/shared/fixtures/npm-lock-v3/package-lock.json';
const execFileAsync = promisify(execFile);

function versionsOf(packages: LockedPackage[], name: string): string[] {
  return [...new Set(packages.filter((p) => p.name === name).map((p) => p.version))].sort();
}

const fixture = parsePackageLock(await readFile(FIXTURE, 'utf8'));

describe('parsePackageLock on the npm-lock-v3 fixture', () => {
  const { packages, meta } = fixture;

  it('reads every node_modules entry and skips the root', () => {
    // jq: 35 `packages` keys, 34 with `node_modules/` (the root "" is the project), 33 distinct names.
    expect(packages).toHaveLength(34);
    expect(new Set(packages.map((p) => p.name)).size).toBe(33);
    expect(packages.some((p) => p.name === 'nested-peer-dep' || p.name === '')).toBe(false);
    expect(meta).toEqual({ format: 'npm-v3' });
  });

  it('gets exact versions, scoped and dotted names, and both axios copies', () => {
    expect(versionsOf(packages, '@xmldom/xmldom')).toEqual(['0.8.10']);
    expect(versionsOf(packages, 'des.js')).toEqual(['1.1.0']);
    expect(versionsOf(packages, 'axios')).toEqual(['0.27.2', '1.7.2']);
    expect(versionsOf(packages, 'axios-ntlm')).toEqual(['1.4.2']);
    expect(versionsOf(packages, 'xpath')).toEqual(['0.0.32']);
    expect(versionsOf(packages, 'lodash')).toEqual(['4.17.21']);
  });

  it('marks only the root dependency as direct', () => {
    expect(packages.filter((p) => p.direct).map((p) => p.name)).toEqual(['soap']);
    const nested = packages.find((p) => p.name === 'axios' && p.version === '1.7.2');
    expect(nested?.direct).toBe(false);
  });
});

describe('parsePackageLock edge cases', () => {
  it('skips links, link targets, workspace folders and folders inside packages', () => {
    const text = JSON.stringify({
      lockfileVersion: 3,
      packages: {
        '': { name: 'root', devDependencies: { a: '^1' } },
        ws: { name: '@me/ws', version: '1.0.0', dependencies: { b: '^2' } },
        'node_modules/@me/ws': { resolved: 'ws', link: true },
        'node_modules/x': { resolved: 'node_modules/a/stub', link: true },
        'node_modules/a': { version: '1.2.0' },
        'node_modules/a/stub': { version: '9.9.9' },
        'node_modules/a/node_modules/@s/c': { version: '3.0.0' },
        'node_modules/b': { version: '2.1.0' },
        'ws/node_modules/b': { version: '2.0.0' },
        'node_modules/noversion': {},
      },
    });
    const { packages } = parsePackageLock(text);
    expect(packages).toEqual([
      { ecosystem: 'npm', name: 'a', version: '1.2.0', direct: true },
      { ecosystem: 'npm', name: '@s/c', version: '3.0.0', direct: false },
      { ecosystem: 'npm', name: 'b', version: '2.1.0', direct: true },
      { ecosystem: 'npm', name: 'b', version: '2.0.0', direct: true },
    ]);
  });

  it('walks the nested dependencies tree of lockfile v1', () => {
    const text = JSON.stringify({
      lockfileVersion: 1,
      dependencies: {
        a: { version: '1.0.0', dependencies: { b: { version: '2.0.0' } } },
        b: { version: '3.0.0' },
      },
    });
    const { packages, meta } = parsePackageLock(text);
    expect(meta).toEqual({ format: 'npm-v1' });
    expect(packages).toEqual([
      { ecosystem: 'npm', name: 'a', version: '1.0.0' },
      { ecosystem: 'npm', name: 'b', version: '2.0.0' },
      { ecosystem: 'npm', name: 'b', version: '3.0.0' },
    ]);
  });

  it('throws on text that is not a JSON object', () => {
    expect(() => parsePackageLock('[]')).toThrow(/not a JSON object/);
    expect(() => parsePackageLock('{')).toThrow();
  });
});

const lockPath = fileURLToPath(new URL('../../../../package-lock.json', import.meta.url));
const repoText = await readFile(lockPath, 'utf8');

describe("parsePackageLock on this repo's own package-lock.json", () => {
  const text = repoText;
  const { packages, meta } = parsePackageLock(text);
  const pairs = new Set(packages.map((p) => `${p.name} ${p.version}`));

  it('matches a jq-style count of the `packages` map', () => {
    // Independent count: keys ending in node_modules/<name> or node_modules/@scope/<name>, not
    // links, not link targets, with a version (what `jq '.packages | to_entries[] | select(...)'` gives).
    const map = (
      JSON.parse(text) as { packages: Record<string, { version?: string; link?: boolean; resolved?: string }> }
    ).packages;
    const targets = new Set(Object.values(map).flatMap((e) => (e.link && e.resolved ? [e.resolved] : [])));
    const expected = Object.entries(map).filter(
      ([key, e]) => /(^|\/)node_modules\/(@[^/]+\/)?[^/]+$/.test(key) && !e.link && !targets.has(key) && e.version,
    );
    expect(meta.format).toBe(`npm-v${(JSON.parse(text) as { lockfileVersion: number }).lockfileVersion}`);
    expect(packages).toHaveLength(expected.length);
    expect(packages.length).toBeGreaterThan(100);
  });

  it('contains every package `npm ls --all --json` reports installed', async (context) => {
    let stdout: string;
    try {
      ({ stdout } = await execFileAsync('npm', ['ls', '--all', '--json'], {
        cwd: dirname(lockPath),
        maxBuffer: 64 * 1024 * 1024,
        timeout: 20_000,
      }));
    } catch {
      // npm missing, or the installed tree disagrees with package.json (someone mid-install).
      context.skip();
      return;
    }
    type Node = { version?: string; resolved?: string; dependencies?: Record<string, Node> };
    const installed = new Set<string>();
    const local = new Set<string>();
    const walk = (deps: Record<string, Node> = {}) => {
      for (const [name, node] of Object.entries(deps)) {
        if (node.resolved?.startsWith('file:')) local.add(name);
        if (node.version) installed.add(`${name} ${node.version}`);
        walk(node.dependencies);
      }
    };
    walk((JSON.parse(stdout) as Node).dependencies);
    const expected = [...installed].filter((pair) => !local.has(pair.split(' ')[0] as string));
    expect(expected.length).toBeGreaterThan(50);
    expect(expected.filter((pair) => !pairs.has(pair))).toEqual([]);
  });
});
