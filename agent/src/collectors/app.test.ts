import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type FactMap,
  factPath,
  factValueSchema,
  isValidPath,
  parsePath,
  validateAgentConfig,
} from '@envparity/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeCollectorResults, runCollectors } from '../run-collectors.js';
import { createSecretHasher } from '../secrets.js';
import { appCollector, collectProject, compareVersions, redactCredentials } from './app.js';
import type { CollectorContext } from './types.js';

const FIXTURES = '/work/shared/fixtures';
const REPO = fileURLToPath(new URL('../../../', import.meta.url));

let tmp: string;
let svc: string;
let py: string;
let web: string;
let nope: string;

async function copy(fixture: string, dir: string, name = path.basename(fixture)): Promise<void> {
  await copyFile(path.join(FIXTURES, fixture), path.join(dir, name));
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'envparity-app-'));
  svc = path.join(tmp, 'svc');
  py = path.join(tmp, 'py');
  web = path.join(tmp, 'web');
  nope = path.join(tmp, 'does-not-exist');
  for (const dir of [svc, py, web]) await mkdir(dir);

  // svc: five fixtures, plus lockfiles that must NOT be read (inside node_modules, in a subfolder)
  // and a directory that merely has a lockfile's name.
  await copy('npm-lock-v3/package-lock.json', svc);
  await copy('pipfile/Pipfile.lock', svc);
  await copy('gomod/go.mod', svc);
  await copy('gomod/go.sum', svc);
  await copy('gemfile/Gemfile.lock', svc);
  await mkdir(path.join(svc, 'node_modules'));
  await writeFile(
    path.join(svc, 'node_modules', 'package-lock.json'),
    JSON.stringify({ lockfileVersion: 3, packages: { 'node_modules/hidden-dep': { version: '6.6.6' } } }),
  );
  await mkdir(path.join(svc, 'sub'));
  await copy('poetry/poetry.lock', path.join(svc, 'sub'));
  await mkdir(path.join(svc, 'pnpm-lock.yaml'));

  // py: two python lockfiles that disagree on some versions, and a broken pnpm lock.
  await copy('requirements/requirements.txt', py);
  await copy('poetry/poetry.lock', py);
  await writeFile(path.join(py, 'pnpm-lock.yaml'), "lockfileVersion: '9.0'\npackages: [unclosed\n");

  // web: yarn berry plus a package-lock with a scoped package in two versions, and a
  // requirements.txt with a token in a git URL.
  await copy('yarn-berry/yarn.lock', web);
  await writeFile(
    path.join(web, 'package-lock.json'),
    JSON.stringify({
      name: 'web',
      lockfileVersion: 3,
      packages: {
        '': { name: 'web', dependencies: { '@babel/core': '^7.22.0', x: '^1.0.0' } },
        'node_modules/@babel/core': { version: '7.22.10' },
        'node_modules/x': { version: '1.0.0' },
        'node_modules/x/node_modules/@babel/core': { version: '7.0.0' },
        'node_modules/axios': { version: '1.15.0' },
      },
    }),
  );
  await writeFile(
    path.join(web, 'requirements.txt'),
    'Zope.Interface==6.0\nprivate @ git+https://oauth2:s3cr3t@git.example.com/o/private.git ; python_version >= "3.9"\n',
  );
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function context(projects: string[], signal = new AbortController().signal): CollectorContext {
  return {
    config: validateAgentConfig({ watch: { projects } }),
    secrets: createSecretHasher('test-key', []),
    signal,
    exec: () => Promise.reject(new Error('the app collector runs no programs')),
  };
}

/** Facts under `app.<project>.<...prefix>`, keyed by the rest of the path's segments. */
function under(facts: FactMap, ...prefix: string[]): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [p, value] of Object.entries(facts)) {
    const segments = parsePath(p);
    if (prefix.every((s, i) => segments[i] === s) && segments.length === prefix.length + 1) {
      out.set(segments[prefix.length] as string, value);
    }
  }
  return out;
}

describe('appCollector end to end', () => {
  let facts: FactMap;

  beforeAll(async () => {
    const config = validateAgentConfig({ watch: { projects: [svc, py, web, nope, svc] } });
    const result = await runCollectors([appCollector], { config, secrets: createSecretHasher('k', []) });
    const merged = mergeCollectorResults(result.collectors);
    expect(merged.errors).toEqual([]);
    facts = merged.facts;
  });

  it('produces only valid paths and fact values', () => {
    for (const [p, value] of Object.entries(facts)) {
      expect(isValidPath(p), p).toBe(true);
      expect(parsePath(p)[0]).toBe('app');
      expect(factValueSchema.safeParse(value).success, p).toBe(true);
    }
  });

  it('svc: lockfiles, hashes and file facts', async () => {
    expect(facts[factPath('app', svc, 'lockfiles')]).toEqual([
      'Gemfile.lock',
      'Pipfile.lock',
      'go.mod',
      'go.sum',
      'package-lock.json',
    ]);
    // sha256sum of the fixtures.
    expect(facts[`app.${svc}.lockfile["package-lock.json"].sha256`]).toBe(
      '9651307cfae68d6f1a82630dfd9dc7ac4f395b447ef2b7017c61314d3d0930a3',
    );
    expect(facts[`app.${svc}.lockfile["go.sum"].sha256`]).toBe(
      '45e2d93306483413ddd61d6478a6a234e5ae906aee3a4d523de55fb2b0099e75',
    );
    expect(facts[`app.${svc}.lockfile["Gemfile.lock"].sha256`]).toBe(
      'acf183d0ef3148a061fe11a6594e0233ef5c75a05ae75c07892b1c344a64ae44',
    );
    expect(under(facts, 'app', svc, 'lockfile', 'package-lock.json')).toEqual(
      new Map([
        ['sha256', '9651307cfae68d6f1a82630dfd9dc7ac4f395b447ef2b7017c61314d3d0930a3'],
        ['format', 'npm-v3'],
      ]),
    );
    expect(facts[factPath('app', svc, 'lockfile', 'Gemfile.lock', 'bundledWith')]).toBe('2.4.4');
    expect(facts[factPath('app', svc, 'lockfile', 'go.mod', 'go')]).toBe('1.13');
    expect(facts[factPath('app', svc, 'lockfile', 'Pipfile.lock', 'format')]).toBe('pipfile-spec-6');
    expect(facts[factPath('app', svc, 'missing')]).toBeUndefined();
  });

  it('svc: packages per ecosystem', () => {
    const npm = under(facts, 'app', svc, 'npm');
    expect(npm.size).toBe(33);
    expect(npm.get('axios')).toEqual(['0.27.2', '1.7.2']);
    expect(npm.get('soap')).toBe('1.0.0');
    expect(npm.has('hidden-dep')).toBe(false); // node_modules/package-lock.json is not read

    const go = under(facts, 'app', svc, 'go');
    expect(go.size).toBe(65);
    expect(go.get('gopkg.in/yaml.v2')).toEqual(['v2.2.1', 'v2.2.2']); // not in go.mod: both go.sum versions
    expect(go.get('github.com/go-ini/ini')).toBe('v1.38.1');
    expect(go.has('github.com/stretchr/objx')).toBe(false);

    const gem = under(facts, 'app', svc, 'gem');
    expect(gem.size).toBe(234);
    expect(gem.get('nokogiri')).toBe('1.14.3');
    expect(gem.get('logstash-event')).toBe('1.2.02');

    const pypi = under(facts, 'app', svc, 'pypi');
    expect(pypi.size).toBe(25); // from Pipfile.lock only: sub/poetry.lock is not read
    expect(pypi.get('typing-extensions')).toBe('3.10.0.2');
    expect(pypi.has('flask')).toBe(false);

    expect(under(facts, 'app', svc, 'direct')).toEqual(
      new Map([
        ['npm', 1],
        ['go', 10],
        ['gem', 136],
      ]),
    );
    // 33 + 65 + 234 + 25 packages, lockfiles, 5 hashes, 5 file facts, 3 direct counts.
    expect(Object.keys(facts).filter((p) => parsePath(p)[1] === svc)).toHaveLength(371);
  });

  it('exact paths, including escaped segments, round-trip', () => {
    const scoped = `app.${svc}.npm.@xmldom/xmldom`;
    expect(facts[scoped]).toBe('0.8.10');
    expect(parsePath(scoped)).toEqual(['app', svc, 'npm', '@xmldom/xmldom']);
    const dotted = `app.${svc}.npm["des.js"]`;
    expect(facts[dotted]).toBe('1.1.0');
    expect(parsePath(dotted)).toEqual(['app', svc, 'npm', 'des.js']);
    const goPath = `app.${svc}.go["gopkg.in/yaml.v2"]`;
    expect(parsePath(goPath)).toEqual(['app', svc, 'go', 'gopkg.in/yaml.v2']);
  });

  it('py: versions from two lockfiles merge into a sorted array; a broken lockfile is reported', () => {
    expect(facts[factPath('app', py, 'lockfiles')]).toEqual(['pnpm-lock.yaml', 'poetry.lock', 'requirements.txt']);
    const error = facts[factPath('app', py, 'lockfile', 'pnpm-lock.yaml', 'error')];
    expect(error).toMatch(/^cannot parse: /);
    expect(String(error)).not.toContain('\n');
    expect(facts[factPath('app', py, 'lockfile', 'pnpm-lock.yaml', 'sha256')]).toMatch(/^[0-9a-f]{64}$/);
    expect(under(facts, 'app', py, 'npm').size).toBe(0);

    const pypi = under(facts, 'app', py, 'pypi');
    // 167 requirements + 11 poetry packages, 7 names in both (idna, requests, urllib3, jinja2,
    // markupsafe, click, charset-normalizer).
    expect(pypi.size).toBe(171);
    expect(pypi.get('idna')).toEqual(['3.4', '3.10']); // numeric order, not string order
    expect(pypi.get('requests')).toEqual(['2.28.1', '2.32.5']);
    expect(pypi.get('urllib3')).toEqual(['1.26.14', '2.3.0']);
    expect(pypi.get('certifi')).toBe('2022.12.7');
    expect(pypi.get('awx-plugins-interfaces')).toBe('@ git+https://github.com/ansible/awx_plugins.interfaces.git');
    expect(under(facts, 'app', py, 'direct').size).toBe(0);
  });

  it('web: scoped npm name in two versions, yarn berry merged in, credentials removed', () => {
    const babel = `app.${web}.npm.@babel/core`;
    expect(facts[babel]).toEqual(['7.0.0', '7.22.10']);
    expect(parsePath(babel)).toEqual(['app', web, 'npm', '@babel/core']);
    expect(factPath('app', web, 'npm', '@babel/core')).toBe(babel);
    const npm = under(facts, 'app', web, 'npm');
    expect(npm.size).toBe(28); // 26 from yarn.lock + @babel/core and x (axios is in both)
    expect(npm.get('axios')).toBe('1.15.0');
    expect(facts[factPath('app', web, 'direct', 'npm')]).toBe(3); // axios (berry), @babel/core and x
    expect(facts[factPath('app', web, 'lockfile', 'yarn.lock', 'format')]).toBe('yarn-berry-v8');
    expect(facts[factPath('app', web, 'pypi', 'zope-interface')]).toBe('6.0');
    expect(facts[factPath('app', web, 'pypi', 'private')]).toBe('@ git+https://git.example.com/o/private.git');
    expect(JSON.stringify(facts)).not.toContain('s3cr3t');
  });

  it('a missing folder is a fact, not an error, and duplicates are read once', () => {
    expect(facts[factPath('app', nope, 'missing')]).toBe(true);
    expect(Object.keys(facts).filter((p) => parsePath(p)[1] === nope)).toHaveLength(1);
  });
});

describe('appCollector failure modes', () => {
  it('returns nothing when no project is configured', async () => {
    await expect(appCollector.collect(context([]))).resolves.toEqual({});
  });

  it('throws only when every project is missing', async () => {
    const file = path.join(tmp, 'svc', 'go.mod');
    await expect(appCollector.collect(context([nope, file]))).rejects.toThrow(
      /no watched project folder could be read: .*does-not-exist \(ENOENT\), .*go\.mod \(not a directory\)/,
    );
    const facts = await appCollector.collect(context([nope, py]));
    expect(facts[factPath('app', nope, 'missing')]).toBe(true);
    expect(facts[factPath('app', py, 'pypi', 'idna')]).toEqual(['3.4', '3.10']);
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('timed out'));
    await expect(appCollector.collect(context([svc], controller.signal))).rejects.toThrow('timed out');
  });

  it('reports a lockfile too large or unreadable without failing the project', async () => {
    const dir = path.join(tmp, 'unreadable');
    await mkdir(dir);
    await writeFile(path.join(dir, 'go.sum'), 'example.com/m v1.0.0 h1:abc=\n');
    await writeFile(path.join(dir, 'Gemfile.lock'), 'GEM\n  specs:\n    rake (13.0.6)\n');
    const { chmod } = await import('node:fs/promises');
    await chmod(path.join(dir, 'go.sum'), 0o000);
    const { facts } = await collectProject(dir);
    expect(facts[factPath('app', dir, 'gem', 'rake')]).toBe('13.0.6');
    expect(facts[factPath('app', dir, 'lockfiles')]).toEqual(['Gemfile.lock', 'go.sum']);
    if (process.getuid?.() !== 0) {
      expect(facts[factPath('app', dir, 'lockfile', 'go.sum', 'error')]).toBe('cannot read: EACCES');
    }
  });
});

describe('go.mod wins over go.sum', () => {
  it('reports the go.mod version for modules it lists, every full go.sum version otherwise', async () => {
    const dir = path.join(tmp, 'gostale');
    await mkdir(dir);
    await writeFile(path.join(dir, 'go.mod'), 'module example.com/app\n\ngo 1.21\n\nrequire example.com/a v1.2.0\n');
    await writeFile(
      path.join(dir, 'go.sum'),
      [
        'example.com/a v1.1.0 h1:aaa=',
        'example.com/a v1.1.0/go.mod h1:bbb=',
        'example.com/a v1.2.0 h1:ccc=',
        'example.com/a v1.2.0/go.mod h1:ddd=',
        'example.com/b v0.10.0 h1:eee=',
        'example.com/b v0.9.0 h1:fff=',
        'example.com/c v1.0.0/go.mod h1:ggg=',
        '',
      ].join('\n'),
    );
    const { facts } = await collectProject(dir);
    expect(under(facts, 'app', dir, 'go')).toEqual(
      new Map<string, unknown>([
        ['example.com/a', 'v1.2.0'],
        ['example.com/b', ['v0.9.0', 'v0.10.0']],
      ]),
    );
    expect(facts[factPath('app', dir, 'direct', 'go')]).toBe(1);
  });
});

describe('project paths are the configured text', () => {
  it('a relative project keeps its configured spelling, resolved against cwd', async () => {
    const { facts, missing } = await collectProject('svc', { cwd: tmp });
    expect(missing).toBeUndefined();
    expect(facts['app.svc.npm.soap']).toBe('1.0.0');
    const dotted = await collectProject('./svc', { cwd: tmp });
    expect(dotted.facts['app["./svc"].npm.soap']).toBe('1.0.0');
  });
});

describe('the repo itself as a project', () => {
  it('reports every package of its package-lock.json', async () => {
    const started = performance.now();
    const { facts, missing } = await collectProject(REPO.replace(/\/$/, ''));
    const elapsed = performance.now() - started;
    expect(missing).toBeUndefined();
    const project = REPO.replace(/\/$/, '');
    expect(facts[factPath('app', project, 'lockfiles')]).toContain('package-lock.json');
    const lock = JSON.parse(await readFile(path.join(REPO, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version?: string; link?: boolean; resolved?: string }>;
    };
    const targets = new Set(Object.values(lock.packages).flatMap((e) => (e.link && e.resolved ? [e.resolved] : [])));
    const names = new Set(
      Object.entries(lock.packages)
        .filter(
          ([key, e]) => /(^|\/)node_modules\/(@[^/]+\/)?[^/]+$/.test(key) && !e.link && !targets.has(key) && e.version,
        )
        .map(([key]) => key.replace(/^.*node_modules\//, '')),
    );
    expect(under(facts, 'app', project, 'npm').size).toBe(names.size);
    expect(facts[factPath('app', project, 'npm', 'vitest')]).toBe(lock.packages['node_modules/vitest']?.version);
    expect(elapsed).toBeLessThan(5_000);
  });
});

describe('helpers', () => {
  it('compareVersions is numeric-aware and total', () => {
    const sorted = ['1.10.0', '1.9.0', '1.9.0-rc.1', 'v2', '1.2', '01.2', '1.2.0', 'abc'].sort(compareVersions);
    expect(sorted).toEqual(['01.2', '1.2', '1.2.0', '1.9.0', '1.9.0-rc.1', '1.10.0', 'abc', 'v2']);
  });

  it('redactCredentials drops userinfo from URLs only', () => {
    expect(redactCredentials('git+https://user:pw@host/x.git#abc')).toBe('git+https://host/x.git#abc');
    expect(redactCredentials('@ https://tok@github.com/o/r')).toBe('@ https://github.com/o/r');
    expect(redactCredentials('npm:@scope/pkg@1.0.0')).toBe('npm:@scope/pkg@1.0.0');
  });
});
