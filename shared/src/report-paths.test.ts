import { describe, expect, it } from 'vitest';
import { findReportPathProblem } from './report-paths.js';

describe('findReportPathProblem', () => {
  it('accepts canonical paths, bare or quoted', () => {
    expect(
      findReportPathProblem({
        full: {
          library: { 'library.dpkg.openssl': '3.0', 'library.pip["zope.interface"]': '5.0' },
          config: { 'config.file["/etc/a.yaml"].db.host': 'db' },
        },
        delta: { os: { set: { 'os.kernel.release': '6.1' }, unset: ['os.hostname'] } },
      }),
    ).toBeUndefined();
  });

  it('refuses a quoted bare segment, naming the path and its canonical form', () => {
    expect(findReportPathProblem({ full: { library: { 'library.dpkg["openssl"]': '3.0' } } })).toBe(
      'full.library: path "library.dpkg[\\"openssl\\"]" is not canonical; write it as "library.dpkg.openssl"',
    );
  });

  it('refuses JSON escapes that the canonical form does not use', () => {
    const problem = findReportPathProblem({ full: { library: { 'library.pip["zope\\u002einterface"]': '5.0' } } });
    expect(problem).toContain('full.library: path "library.pip[\\"zope\\\\u002einterface\\"]" is not canonical');
    expect(problem).toContain('write it as "library.pip[\\"zope.interface\\"]"');
  });

  it('checks delta set and unset paths too', () => {
    expect(findReportPathProblem({ delta: { os: { set: { 'os["kernel"]': 'x' }, unset: [] } } })).toBe(
      'delta.os.set: path "os[\\"kernel\\"]" is not canonical; write it as "os.kernel"',
    );
    expect(findReportPathProblem({ delta: { os: { set: {}, unset: ['["os"].kernel'] } } })).toBe(
      'delta.os.unset: path "[\\"os\\"].kernel" is not canonical; write it as "os.kernel"',
    );
  });

  it('still reports invalid paths and wrong categories first', () => {
    expect(findReportPathProblem({ full: { os: { 'os..x': 1 } } })).toBe('full.os: not a valid fact path');
    expect(findReportPathProblem({ full: { os: { 'library["x"]': 1 } } })).toBe('full.os: path of category "library"');
  });

  it('shortens very long paths in the message', () => {
    const name = 'n'.repeat(500);
    const problem = findReportPathProblem({ full: { library: { [`library.dpkg["${name}"]`]: '1' } } }) ?? '';
    expect(problem).toContain('is not canonical');
    expect(problem.length).toBeLessThan(300);
  });
});
