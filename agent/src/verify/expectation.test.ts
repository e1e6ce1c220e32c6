import { describe, expect, it } from 'vitest';
import { ExpectationError, formatExpectationFile, matches, parseExpectationFile, parseMatcher } from './expectation.js';

describe('parseMatcher', () => {
  it('reads the shorthands', () => {
    expect(parseMatcher('p', 'debian')).toEqual({ kind: 'equals', value: 'debian' });
    expect(parseMatcher('p', 8)).toEqual({ kind: 'equals', value: 8 });
    expect(parseMatcher('p', '>=20.11 <21')).toEqual({ kind: 'range', range: '>=20.11 <21' });
    expect(parseMatcher('p', '^3.0.0')).toMatchObject({ kind: 'range' });
    expect(parseMatcher('p', '20.x')).toMatchObject({ kind: 'range' });
    expect(parseMatcher('p', '/^3\\.0\\./')).toMatchObject({ kind: 'match' });
    expect(parseMatcher('p', ['info', 'warn'])).toEqual({ kind: 'oneOf', values: ['info', 'warn'] });
    expect(parseMatcher('p', 'ignore')).toEqual({ kind: 'ignore' });
    // A plain version is an exact value, not a range.
    expect(parseMatcher('p', '3.0.11-1~deb12u2')).toEqual({ kind: 'equals', value: '3.0.11-1~deb12u2' });
    expect(parseMatcher('p', '/srv/app')).toEqual({ kind: 'equals', value: '/srv/app' });
  });

  it('reads the explicit forms', () => {
    expect(parseMatcher('p', { equals: ['10.0.0.2'] })).toEqual({ kind: 'equals', value: ['10.0.0.2'] });
    expect(parseMatcher('p', { equals: 'ignore' })).toEqual({ kind: 'equals', value: 'ignore' });
    expect(parseMatcher('p', { range: '>=1' })).toEqual({ kind: 'range', range: '>=1' });
    expect(parseMatcher('p', { match: '^a' })).toMatchObject({ kind: 'match', source: '^a' });
    expect(parseMatcher('p', { oneOf: [1, 2] })).toEqual({ kind: 'oneOf', values: [1, 2] });
    expect(parseMatcher('p', { ignore: true })).toEqual({ kind: 'ignore' });
  });

  it('names the path in errors', () => {
    expect(() => parseMatcher('runtime.node.version', { range: 'not a range' })).toThrow(
      'runtime.node.version: invalid semver range',
    );
    expect(() => parseMatcher('os.x', '/[/')).toThrow('os.x: invalid regex');
    expect(() => parseMatcher('os.x', { equals: 1, range: '>1' })).toThrow('os.x: expected a value');
    expect(() => parseMatcher('os.x', [{ a: 1 }])).toThrow(ExpectationError);
  });
});

describe('matches', () => {
  it('checks each kind', () => {
    expect(matches(parseMatcher('p', '>=20.11 <21'), '20.20.2')).toBe(true);
    expect(matches(parseMatcher('p', '>=20.11 <21'), '22.1.0')).toBe(false);
    expect(matches(parseMatcher('p', '^3.0.0'), '3.0.11-1~deb12u2')).toBe(true);
    expect(matches(parseMatcher('p', '/^3\\.0\\./'), '3.0.11')).toBe(true);
    expect(matches(parseMatcher('p', '/^3\\.0\\./'), '3.1.0')).toBe(false);
    expect(matches(parseMatcher('p', ['info', 'warn']), 'warn')).toBe(true);
    expect(matches(parseMatcher('p', ['info', 'warn']), 'debug')).toBe(false);
    expect(matches(parseMatcher('p', { equals: ['a', 'b'] }), ['a', 'b'])).toBe(true);
    expect(matches(parseMatcher('p', { equals: ['a', 'b'] }), ['b', 'a'])).toBe(false);
    expect(matches(parseMatcher('p', 'x'), undefined)).toBe(false);
    expect(matches(parseMatcher('p', 'ignore'), undefined)).toBe(true);
  });
});

describe('expectation files', () => {
  it('round-trips baseline output, including values the shorthand would misread', () => {
    const facts = {
      'os.distro.id': 'debian',
      'network.dns.nameservers': ['10.0.0.2'],
      'config.env.WEIRD': 'ignore',
      'config.env.SLASHY': '/a/',
      'config.env.RANGEY': '>=1',
      'library.pip["zope.interface"]': '5.5.2',
      'hardware.cpu.flags': ['aes', 'avx'],
      'config.sysctl["vm.swappiness"]': 60,
      'os.x': null,
      'network.dns.options': [],
    };
    const file = parseExpectationFile(formatExpectationFile(facts, { hostId: 'web-1', environment: 'staging' }));
    expect(file.hostId).toBe('web-1');
    for (const [path, value] of Object.entries(facts)) {
      expect(file.expectations.get(path)).toEqual({ kind: 'equals', value });
    }
  });

  it('rejects bad files with a message naming the problem', () => {
    expect(() => parseExpectationFile('facts: {}')).toThrow('format');
    expect(() => parseExpectationFile('format: envparity/expectations/v1\nfacts: { "a..b": 1 }')).toThrow(
      'invalid fact path',
    );
    expect(() => parseExpectationFile('format: envparity/expectations/v1\nfacts: {}\nextra: 1')).toThrow('extra');
    expect(() => parseExpectationFile(': : :')).toThrow(ExpectationError);
  });
});
