import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalDpkgVersion, parseDpkgPackages, parseDpkgStatus, scanDpkgStanzas } from './library-dpkg.js';

// dpkg-query's own format language, not JavaScript template strings.
// biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query --showformat
const DPKG_STATE_FORMAT = '${binary:Package}\\t${Version}\\t${db:Status-Status}\\n';
// biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query --showformat
const DPKG_STATE_ONLY_FORMAT = '${db:Status-Status}\\n';

const FIXTURE = '/work/shared/fixtures/dpkg/status';
const HOST_STATUS = '/var/lib/dpkg/status';

function dpkgQuery(args: string[]): string | undefined {
  try {
    return execFileSync('dpkg-query', args, {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return undefined;
  }
}

/** `dpkg-query -W` output (default format `${binary:Package}\t${Version}`) as a map. */
function queryMap(output: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of output.split('\n')) {
    if (!line) continue;
    const tab = line.indexOf('\t');
    map.set(line.slice(0, tab), line.slice(tab + 1));
  }
  return map;
}

const hasDpkgQuery = dpkgQuery(['--version']) !== undefined;
const nativeArch = (() => {
  try {
    return execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
})();

describe('scanDpkgStanzas', () => {
  it('splits stanzas, matches field names case-insensitively and skips continuation lines', () => {
    const stanzas = scanDpkgStanzas(
      'Package: a\nDescription: short\n Version: not-a-field\n .\nversion: 1.0\n\n\nPackage: b\r\nMULTI-ARCH: same\r\n\r\n',
    );
    expect(stanzas).toEqual([
      { package: 'a', version: '1.0' },
      { package: 'b', multiArch: 'same' },
    ]);
  });
});

describe('canonicalDpkgVersion', () => {
  it('drops a zero epoch and normalises the epoch number, like dpkg-query', () => {
    expect(canonicalDpkgVersion('1:2.34-0.1ubuntu9')).toBe('1:2.34-0.1ubuntu9');
    expect(canonicalDpkgVersion('0:1.2-3')).toBe('1.2-3');
    expect(canonicalDpkgVersion('01:1.2')).toBe('1:1.2');
    expect(canonicalDpkgVersion('0:1:2-3')).toBe('0:1:2-3');
    expect(canonicalDpkgVersion(' 3.0-1 ')).toBe('3.0-1');
  });
});

describe('parseDpkgPackages', () => {
  const stanza = (fields: Record<string, string>) =>
    Object.entries(fields)
      .map(([key, value]) => `${key}: ${value}`)
      .join('\n');
  const text = [
    stanza({ Package: 'dpkg', Status: 'install ok installed', Architecture: 'amd64', Version: '1.21.22' }),
    stanza({
      Package: 'libc6',
      Status: 'install ok installed',
      Architecture: 'amd64',
      'Multi-Arch': 'same',
      Version: '2.36-9',
    }),
    stanza({
      Package: 'libc6',
      Status: 'install ok installed',
      Architecture: 'i386',
      'Multi-Arch': 'same',
      Version: '2.36-9',
    }),
    stanza({ Package: 'wine32', Status: 'install ok installed', Architecture: 'i386', Version: '8.0' }),
    stanza({ Package: 'tzdata', Status: 'install ok installed', Architecture: 'all', Version: '2024a-0' }),
    stanza({ Package: 'held', Status: 'hold ok installed', Architecture: 'amd64', Version: '1.0' }),
    stanza({ Package: 'removed', Status: 'deinstall ok config-files', Architecture: 'amd64', Version: '1.0' }),
    stanza({ Package: 'broken', Status: 'install reinstreq half-installed', Architecture: 'amd64', Version: '1.0' }),
    stanza({ Package: 'pending', Status: 'install ok triggers-pending', Architecture: 'amd64', Version: '2.0' }),
    stanza({ Package: 'unpacked', Status: 'install ok unpacked', Architecture: 'amd64', Version: '2.0' }),
  ].join('\n\n');

  it('qualifies Multi-Arch: same and foreign-architecture packages, and keeps only installed ones', () => {
    expect([...parseDpkgStatus(text)]).toEqual([
      ['dpkg', '1.21.22'],
      ['held', '1.0'],
      ['libc6:amd64', '2.36-9'],
      ['libc6:i386', '2.36-9'],
      ['pending', '2.0'],
      ['tzdata', '2024a-0'],
      ['wine32:i386', '8.0'],
    ]);
  });

  it('applies pending journal entries on top of the status file', () => {
    const update = stanza({ Package: 'held', Status: 'hold ok installed', Architecture: 'amd64', Version: '1.1' });
    const removal = stanza({ Package: 'tzdata', Status: 'purge ok not-installed', Architecture: 'all' });
    const map = parseDpkgStatus([text, update, removal]);
    expect(map.get('held')).toBe('1.1');
    expect(map.has('tzdata')).toBe(false);
  });

  it('lets the caller set the native architecture', () => {
    const map = parseDpkgStatus(text, { nativeArch: 'i386' });
    expect(map.get('dpkg:amd64')).toBe('1.21.22');
    expect(map.get('wine32')).toBe('8.0');
  });
});

describe('the Ubuntu 20.04 armhf fixture', () => {
  const fixture = readFileSync(FIXTURE, 'utf8');
  const map = parseDpkgStatus(fixture);

  it('holds all 92 packages, with the native architecture taken from the dpkg package', () => {
    expect(map.size).toBe(92);
    expect(parseDpkgPackages(fixture).every((pkg) => pkg.status === 'install ok installed')).toBe(true);
    expect([...map.keys()].filter((name) => name.endsWith(':armhf'))).toHaveLength(50);
  });

  it.each([
    ['adduser', '3.118ubuntu2'],
    ['bsdutils', '1:2.34-0.1ubuntu9'],
    ['util-linux', '2.34-0.1ubuntu9'],
    ['dpkg', '1.19.7ubuntu3'],
    ['perl-base', '5.30.0-9build1'],
    ['sensible-utils', '0.0.12+nmu1'],
    ['tar', '1.30+dfsg-7'],
    ['mawk', '1.3.4.20200120-2'],
    ['libc6:armhf', '2.31-0ubuntu9'],
    ['libpcre3:armhf', '2:8.39-12build1'],
    ['zlib1g:armhf', '1:1.2.11.dfsg-2ubuntu1'],
    ['libstdc++6:armhf', '10-20200411-0ubuntu1'],
    ['libapt-pkg6.0:armhf', '2.0.2'],
    ['libdb5.3:armhf', '5.3.28+dfsg1-0.6ubuntu2'],
  ])('%s = %s', (name, version) => {
    expect(map.get(name)).toBe(version);
  });

  it.skipIf(!hasDpkgQuery || !nativeArch)('matches dpkg-query -W run on the fixture from this host', () => {
    const admin = mkdtempSync(join(tmpdir(), 'envparity-dpkg-'));
    try {
      writeFileSync(join(admin, 'status'), fixture);
      mkdirSync(join(admin, 'updates'));
      mkdirSync(join(admin, 'info'));
      const output = dpkgQuery([`--admindir=${admin}`, '-W']);
      expect(output).toBeDefined();
      // From an amd64 host the armhf packages are foreign, so dpkg-query qualifies all of them.
      expect(parseDpkgStatus(fixture, { nativeArch: nativeArch as string })).toEqual(queryMap(output as string));
    } finally {
      rmSync(admin, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!hasDpkgQuery || !existsSync(HOST_STATUS))("this host's dpkg database", () => {
  const updates = existsSync('/var/lib/dpkg/updates')
    ? readdirSync('/var/lib/dpkg/updates')
        .filter((name) => /^\d+$/.test(name))
        .sort()
        .map((name) => readFileSync(join('/var/lib/dpkg/updates', name), 'utf8'))
    : [];
  const parsed = parseDpkgStatus([readFileSync(HOST_STATUS, 'utf8'), ...updates]);

  it('has every package and version of `dpkg-query -W` whose files are installed, and no other', () => {
    const output = dpkgQuery(['-W', '-f', DPKG_STATE_FORMAT]) ?? '';
    const expected = new Map<string, string>();
    for (const line of output.split('\n')) {
      const [name, version, state] = line.split('\t');
      if (
        name &&
        version !== undefined &&
        ['installed', 'triggers-pending', 'triggers-awaited'].includes(state ?? '')
      ) {
        expected.set(name, version);
      }
    }
    expect(parsed.size).toBeGreaterThan(0);
    expect(parsed).toEqual(expected);
  });

  const onlyInstalled = (dpkgQuery(['-W', '-f', DPKG_STATE_ONLY_FORMAT]) ?? '')
    .split('\n')
    .filter(Boolean)
    .every((state) => state === 'installed');

  it.skipIf(!onlyInstalled)(
    'equals the whole `dpkg-query -W` output (no package half-installed or removed here)',
    () => {
      expect(parsed).toEqual(queryMap(dpkgQuery(['-W']) ?? ''));
    },
  );
});
