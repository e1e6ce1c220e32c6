import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseApkInstalled, parseApkPackages } from './library-apk.js';

const FIXTURE = '/work/shared/fixtures/apk/installed';

describe('the Alpine 3.6 fixture', () => {
  const text = readFileSync(FIXTURE, 'utf8');
  const map = parseApkInstalled(text);

  it('holds the 11 installed packages', () => {
    expect(map.size).toBe(11);
    expect([...map.keys()]).toEqual([
      'alpine-baselayout',
      'alpine-keys',
      'apk-tools',
      'busybox',
      'libc-utils',
      'libressl2.5-libcrypto',
      'libressl2.5-libssl',
      'musl',
      'musl-utils',
      'scanelf',
      'zlib',
    ]);
  });

  it.each([
    ['musl', '1.1.16-r9'],
    ['busybox', '1.26.2-r5'],
    ['alpine-baselayout', '3.0.4-r0'],
    ['alpine-keys', '2.1-r1'],
    ['libressl2.5-libcrypto', '2.5.4-r0'],
    ['libressl2.5-libssl', '2.5.4-r0'],
    ['zlib', '1.2.11-r0'],
    ['apk-tools', '2.7.1-r1'],
    ['scanelf', '1.2.2-r0'],
    ['musl-utils', '1.1.16-r9'],
    ['libc-utils', '0.7.1-r0'],
  ])('%s = %s', (name, version) => {
    expect(map.get(name)).toBe(version);
  });

  it('keeps the architecture', () => {
    expect(parseApkPackages(text).every((pkg) => pkg.architecture === 'x86_64')).toBe(true);
  });
});

describe('parseApkPackages', () => {
  it('handles a missing final blank line, CRLF and records without a version', () => {
    expect(parseApkPackages('P:a\r\nV:1-r0\r\n\r\nP:noversion\n\nC:Q1x=\nP:b\nV:2-r1\nF:usr')).toEqual([
      { name: 'a', version: '1-r0' },
      { name: 'b', version: '2-r1' },
    ]);
  });
});
