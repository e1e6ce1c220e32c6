import { describe, expect, it } from 'vitest';
import { detachedString, detachFactStrings } from './detached-strings.js';

describe('detached strings', () => {
  it('keeps the characters of short and long slices', () => {
    const text = `Package: libssl3\nVersion: 3.0.15-1~deb12u1\n${'x'.repeat(100_000)}`;
    const version = text.slice(text.indexOf('Version: ') + 9, text.indexOf('\n', 20));
    expect(detachedString(version)).toBe('3.0.15-1~deb12u1');
    expect(detachedString('1.2-3')).toBe('1.2-3');
    expect(detachedString('')).toBe('');
  });

  it('replaces string values and array items in place, leaving other values as they are', () => {
    const facts = {
      'library.dpkg.libssl3': 'x3.0.15-1~deb12u1'.slice(1),
      'network.dns.resolvers': ['10.0.0.53', ' 2001:db8::53:53:53'.slice(1), 5],
      'hardware.cpu.cores': 8,
      'config.env.DEBUG': false,
      'config.env.EMPTY': null,
    };
    const same = detachFactStrings(facts);
    expect(same).toBe(facts);
    expect(facts).toEqual({
      'library.dpkg.libssl3': '3.0.15-1~deb12u1',
      'network.dns.resolvers': ['10.0.0.53', '2001:db8::53:53:53', 5],
      'hardware.cpu.cores': 8,
      'config.env.DEBUG': false,
      'config.env.EMPTY': null,
    });
  });
});
