import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseRequirementLine, parseRequirements } from './requirements.js';

const FIXTURE = '/work/shared/fixtures/requirements/requirements.txt';
const fixture = parseRequirements(await readFile(FIXTURE, 'utf8'));

describe('parseRequirements on the pip-compile fixture', () => {
  const { packages, meta } = fixture;
  const versions = new Map(packages.map((p) => [p.name, p.version]));

  it('reads every requirement line and nothing from comments', () => {
    // grep: 167 lines start with a name (166 `==` pins and one `name @ url`); comments and
    // `# via` blocks hold none; names are all distinct.
    expect(packages).toHaveLength(167);
    expect(versions.size).toBe(167);
    expect(packages.filter((p) => !p.version.startsWith('@'))).toHaveLength(166);
    expect(meta).toEqual({});
    expect(versions.has('ansible-runner')).toBe(false); // commented-out git requirement
    expect(versions.has('awx-plugins-core')).toBe(false);
  });

  it('gets exact versions, drops extras and normalizes names', () => {
    expect(versions.get('adal')).toBe('1.2.7');
    expect(versions.get('aiohttp')).toBe('3.13.0'); // aiohttp[speedups]
    expect(versions.get('pyjwt')).toBe('2.10.1'); // pyjwt[crypto]
    expect(versions.get('twisted')).toBe('25.5.0'); // twisted[tls]
    expect(versions.get('dispatcherd')).toBe('2025.12.10'); // dispatcherd[pg_notify]
    expect(versions.get('python-dateutil')).toBe('2.9.0.post0');
    expect(versions.get('django')).toBe('5.2.8');
    expect(versions.get('setuptools')).toBe('80.9.0');
    expect(versions.get('awx-plugins-interfaces')).toBe('@ git+https://github.com/ansible/awx_plugins.interfaces.git');
    expect(packages.every((p) => p.direct === undefined)).toBe(true);
  });
});

describe('requirement lines', () => {
  it('handles pins, specifiers, markers, hashes, options and paths', () => {
    expect(parseRequirementLine('Django_Rest.Framework == 3.15.2')).toEqual({
      name: 'django-rest-framework',
      version: '3.15.2',
    });
    expect(parseRequirementLine('foo===1.0-local')).toEqual({ name: 'foo', version: '1.0-local' });
    expect(parseRequirementLine('requests>=2.0, <3 ; python_version >= "3.8"  # pinned later')).toEqual({
      name: 'requests',
      version: '>=2.0,<3',
    });
    expect(parseRequirementLine('foo==1.*')).toEqual({ name: 'foo', version: '==1.*' });
    expect(parseRequirementLine('bar')).toEqual({ name: 'bar', version: '*' });
    expect(parseRequirementLine('baz (>=1.0)')).toEqual({ name: 'baz', version: '>=1.0' });
    expect(parseRequirementLine('qux==2.0 --hash=sha256:abcd --hash=sha256:ef01')).toEqual({
      name: 'qux',
      version: '2.0',
    });
    for (const ignored of [
      '# comment',
      '   ',
      '-r other.txt',
      '--index-url https://pypi.org/simple',
      '-e git+https://github.com/o/r.git#egg=r',
      './local/pkg',
      'https://example.com/pkg-1.0.tar.gz',
      'git+https://github.com/o/r.git',
    ]) {
      expect(parseRequirementLine(ignored)).toBeUndefined();
    }
  });

  it('joins backslash continuations (hash-checking mode)', () => {
    const text = ['certifi==2024.2.2 \\', '    --hash=sha256:aaaa \\', '    --hash=sha256:bbbb', 'idna==3.6'].join(
      '\r\n',
    );
    expect(parseRequirements(text).packages).toEqual([
      { ecosystem: 'pypi', name: 'certifi', version: '2024.2.2' },
      { ecosystem: 'pypi', name: 'idna', version: '3.6' },
    ]);
  });
});
