import { describe, expect, it } from 'vitest';
import { compilePathGlob, matchAnyName, matchName, matchPathGlob } from './glob.js';
import { factPath } from './paths.js';

describe('matchPathGlob', () => {
  it('matches one segment with *', () => {
    expect(matchPathGlob('config.env.FEATURE_*', 'config.env.FEATURE_X')).toBe(true);
    expect(matchPathGlob('config.env.FEATURE_*', 'config.env.LOG_LEVEL')).toBe(false);
    expect(matchPathGlob('library.dpkg.*', 'library.dpkg.openssl')).toBe(true);
    expect(matchPathGlob('library.dpkg.*', 'library.rpm.openssl')).toBe(false);
  });

  it('never lets * cross a segment, even for segments holding dots or slashes', () => {
    expect(matchPathGlob('library.pip.*', factPath('library', 'pip', 'zope.interface'))).toBe(true);
    expect(matchPathGlob('app.*.npm.*', factPath('app', '/srv/app', 'npm', '@babel/core'))).toBe(true);
    expect(matchPathGlob('library.*', 'library.dpkg.openssl')).toBe(false);
  });

  it('matches any depth with **', () => {
    expect(matchPathGlob('config.**', 'config.file["/etc/a.yaml"].db.host')).toBe(true);
    expect(matchPathGlob('config.**', 'config')).toBe(true);
    expect(matchPathGlob('**.uptime', 'os.uptime')).toBe(true);
    expect(matchPathGlob('config.**.host', 'config.file["/etc/a.yaml"].db.host')).toBe(true);
    expect(matchPathGlob('config.**.host', 'config.file["/etc/a.yaml"].db.port')).toBe(false);
  });

  it('keeps quoted glob segments literal', () => {
    expect(matchPathGlob('config.file["/etc/*.yaml"].**', 'config.file["/etc/a.yaml"].x')).toBe(false);
    expect(matchPathGlob('config.file["/etc/*.yaml"].**', 'config.file["/etc/*.yaml"].x')).toBe(true);
  });

  it('supports ? for one character', () => {
    expect(matchPathGlob('os.kernel.v?', 'os.kernel.v1')).toBe(true);
    expect(matchPathGlob('os.kernel.v?', 'os.kernel.v12')).toBe(false);
  });

  it('rejects malformed globs', () => {
    expect(() => compilePathGlob('config..x')).toThrow('empty segment');
    expect(() => compilePathGlob('config["x')).toThrow('unterminated');
  });

  it('accepts parsed segments directly', () => {
    expect(compilePathGlob('a.*').matches(['a', 'b.c'])).toBe(true);
  });
});

describe('matchName', () => {
  it('matches env var names', () => {
    expect(matchName('DB_*', 'DB_HOST')).toBe(true);
    expect(matchName('DB_*', 'XDB_HOST')).toBe(false);
    expect(matchName('*_KEY', 'API_KEY')).toBe(true);
    expect(matchName('a.b', 'axb')).toBe(false);
  });

  it('is case-insensitive on request', () => {
    expect(matchName('*PASSWORD*', 'db_password')).toBe(false);
    expect(matchName('*PASSWORD*', 'db_password', true)).toBe(true);
    expect(matchAnyName(['*SECRET*', '*TOKEN*'], 'github_token', true)).toBe(true);
  });
});
