import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { factPath, parsePath } from '@envparity/shared';
import { describe, expect, it } from 'vitest';
import { createTestContext } from '../../testing/collector-context.js';
import { libraryCollector } from './library.js';
import { parseRpmQuery, RPM_QUERY_FORMAT } from './library-rpm.js';
import {
  elfInterpreter,
  glibcVersionFromBinary,
  glibcVersionFromFileName,
  libcFromMaps,
  parseMuslLoaderOutput,
  parseOpensslVersion,
} from './library-system.js';

// dpkg-query's own format language, not JavaScript template strings.
// biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query --showformat
const DPKG_STATE_FORMAT = '${binary:Package}\\t${Version}\\t${db:Status-Status}\\n';

const context = createTestContext();

function tool(file: string, args: string[]): string | undefined {
  try {
    return execFileSync(file, args, {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

describe('parseRpmQuery', () => {
  it('reads name, epoch:version-release and arch; keys multilib by arch and lists kernels', () => {
    const output = [
      'bash\t5.2.15-3.fc38\tx86_64',
      'glibc\t2.37-1.fc38\tx86_64',
      'glibc\t2.37-1.fc38\ti686',
      'kernel-core\t6.5.6-200.fc38\tx86_64',
      'kernel-core\t6.4.15-200.fc38\tx86_64',
      'shadow-utils\t2:4.13-6.fc38\tx86_64',
      'gpg-pubkey\teb10b464-6202d9c6\t(none)',
      '',
    ].join('\n');
    expect([...parseRpmQuery(output)]).toEqual([
      ['bash', '5.2.15-3.fc38'],
      ['glibc.i686', '2.37-1.fc38'],
      ['glibc.x86_64', '2.37-1.fc38'],
      ['kernel-core', ['6.4.15-200.fc38', '6.5.6-200.fc38']],
      ['shadow-utils', '2:4.13-6.fc38'],
    ]);
  });

  it('asks rpm for tab-separated fields with the epoch only when set', () => {
    expect(RPM_QUERY_FORMAT).toBe('%{NAME}\\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\\t%{ARCH}\\n');
  });
});

describe('C library and OpenSSL helpers', () => {
  it('finds the C library in /proc/self/maps', () => {
    const glibc = '7f3c-7f3d r--p 00000000 fe:00 339380   /usr/lib/x86_64-linux-gnu/libc.so.6\n';
    expect(libcFromMaps(`55d0-55d1 r--p 0 fe:00 1  /usr/bin/node\n${glibc}`)).toEqual({
      kind: 'glibc',
      path: '/usr/lib/x86_64-linux-gnu/libc.so.6',
    });
    expect(libcFromMaps('7f-80 r-xp 0 08:01 5 /lib/x86_64-linux-gnu/libc-2.31.so (deleted)\n')).toEqual({
      kind: 'glibc',
      path: '/lib/x86_64-linux-gnu/libc-2.31.so',
    });
    expect(libcFromMaps('7f-80 r-xp 0 08:01 5 /lib/ld-musl-x86_64.so.1\n')?.kind).toBe('musl');
    expect(libcFromMaps('7f-80 rw-p 0 00:00 0 [heap]\n')).toBeUndefined();
    expect(glibcVersionFromFileName('/lib/x86_64-linux-gnu/libc-2.31.so')).toBe('2.31');
    expect(glibcVersionFromFileName('/lib/x86_64-linux-gnu/libc.so.6')).toBeUndefined();
  });

  it('reads the program interpreter from an ELF header', () => {
    const head = Buffer.alloc(4096);
    const fd = openSync(process.execPath, 'r');
    try {
      readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
    const interpreter = elfInterpreter(head);
    if (process.platform === 'linux') {
      expect(interpreter).toMatch(/^\/.*ld[-.].*so/);
      expect(existsSync(interpreter as string)).toBe(true);
      const readelf = tool('readelf', ['-l', process.execPath]);
      const named = readelf ? /Requesting program interpreter: ([^\]]+)\]/.exec(readelf)?.[1] : undefined;
      if (named) expect(interpreter).toBe(named);
    }
    expect(elfInterpreter(Buffer.from('#!/bin/sh\n'))).toBeUndefined();
    expect(elfInterpreter(head.subarray(0, 80))).toBeUndefined();
  });

  it('reads the glibc banner', () => {
    const binary = Buffer.concat([
      Buffer.from([0, 1, 2]),
      Buffer.from('release version 9.9 of something else\0'),
      Buffer.from('GNU C Library (Debian GLIBC 2.36-9+deb12u14) stable release version 2.36.\n'),
    ]);
    expect(glibcVersionFromBinary(binary)).toBe('2.36');
    expect(glibcVersionFromBinary(Buffer.from('nothing here'))).toBeUndefined();
    const loader = Buffer.from('\0ld.so (Debian GLIBC 2.36-9+deb12u14) stable release version 2.36.\0');
    expect(glibcVersionFromBinary(loader)).toBe('2.36');
    expect(glibcVersionFromFileName('/lib/x86_64-linux-gnu/ld-2.31.so')).toBe('2.31');
  });

  it('parses musl and openssl version outputs', () => {
    expect(parseMuslLoaderOutput('musl libc (x86_64)\nVersion 1.2.4\nDynamic Program Loader\n')).toBe('1.2.4');
    expect(parseOpensslVersion('OpenSSL 3.0.19 27 Jan 2026 (Library: OpenSSL 3.0.19 27 Jan 2026)\n')).toEqual({
      flavor: 'OpenSSL',
      version: '3.0.19',
    });
    expect(parseOpensslVersion('OpenSSL 3.0.2 15 Mar 2022 (Library: OpenSSL 3.0.13 30 Jan 2024)')?.version).toBe(
      '3.0.13',
    );
    expect(parseOpensslVersion('OpenSSL 1.1.1w  11 Sep 2023')?.version).toBe('1.1.1w');
    expect(parseOpensslVersion('LibreSSL 3.8.2')).toEqual({ flavor: 'LibreSSL', version: '3.8.2' });
  });
});

describe('libraryCollector on this host', async () => {
  const facts = await libraryCollector.collect(context);
  const byManager = (manager: string) => {
    const map = new Map<string, unknown>();
    for (const [path, value] of Object.entries(facts)) {
      const [category, kind, name, ...rest] = parsePath(path);
      if (category === 'library' && kind === manager && name !== undefined && rest.length === 0) map.set(name, value);
    }
    return map;
  };

  it('reports the OpenSSL node embeds', () => {
    expect(facts['library.openssl.node']).toBe(process.versions.openssl);
  });

  it.skipIf(tool('openssl', ['version']) === undefined)('reports the OpenSSL library as `openssl version` does', () => {
    const output = tool('openssl', ['version']) as string;
    const library = /\(Library: \S+ (\S+)/.exec(output)?.[1] ?? output.split(' ')[1];
    const key = output.startsWith('LibreSSL') ? 'library.libressl.version' : 'library.openssl.version';
    expect(facts[key]).toBe(library);
  });

  it.skipIf(tool('getconf', ['GNU_LIBC_VERSION']) === undefined)('reports glibc as getconf and ldd do', () => {
    expect(`glibc ${facts['library.glibc.version']}`).toBe(tool('getconf', ['GNU_LIBC_VERSION']));
    const ldd = tool('ldd', ['--version']);
    if (ldd) expect(ldd.split('\n')[0]?.split(' ').pop()).toBe(facts['library.glibc.version']);
  });

  it.skipIf(tool('dpkg-query', ['--version']) === undefined)(
    'reports every dpkg package with the version dpkg-query -W prints',
    () => {
      const output = tool('dpkg-query', ['-W', '-f', DPKG_STATE_FORMAT]) ?? '';
      const expected = new Map<string, string>();
      for (const line of output.split('\n')) {
        const [name, version, state] = line.split('\t');
        if (name && version && ['installed', 'triggers-pending', 'triggers-awaited'].includes(state ?? '')) {
          expected.set(name, version);
        }
      }
      const reported = byManager('dpkg');
      expect(reported.size).toBe(expected.size);
      expect(new Map([...reported].sort())).toEqual(new Map([...expected].sort()));
      // Names with dots (libapt-pkg6.0, libdb5.3) are escaped by factPath.
      for (const name of reported.keys()) expect(facts[factPath('library', 'dpkg', name)]).toBe(reported.get(name));
    },
  );

  it.skipIf(!existsSync('/lib/apk/db/installed'))('reports apk packages', () => {
    expect(byManager('apk').size).toBe((readFileSync('/lib/apk/db/installed', 'utf8').match(/^P:/gm) ?? []).length);
  });

  it.skipIf(tool('rpm', ['--version']) === undefined || !existsSync('/var/lib/rpm'))('reports rpm packages', () => {
    const names = (tool('rpm', ['-qa', '--qf', '%{NAME}\\n']) ?? '').split('\n').filter((n) => n && n !== 'gpg-pubkey');
    expect(byManager('rpm').size).toBeLessThanOrEqual(names.length);
  });

  it('only emits strings or short string arrays', () => {
    for (const value of Object.values(facts)) {
      expect(typeof value === 'string' || (Array.isArray(value) && value.every((v) => typeof v === 'string'))).toBe(
        true,
      );
    }
  });
});
