import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseGemfileLock } from './gemfile.js';

const FIXTURE = '/work/shared/fixtures/gemfile/Gemfile.lock';
const fixture = parseGemfileLock(await readFile(FIXTURE, 'utf8'));

describe('parseGemfileLock on the discourse fixture', () => {
  const { packages, meta } = fixture;
  const versions = new Map<string, Set<string>>();
  for (const p of packages) versions.set(p.name, new Set([...(versions.get(p.name) ?? []), p.version]));

  it('reads every spec line of the GIT and GEM sections', () => {
    // grep -c '^    [^ ]': 251 spec lines; 234 distinct gems once platform suffixes are dropped.
    expect(packages).toHaveLength(251);
    expect(versions.size).toBe(234);
    for (const [, set] of versions) expect(set.size).toBe(1);
    expect(meta).toEqual({ bundledWith: '2.4.4' });
  });

  it('gets exact versions', () => {
    expect(versions.get('sprockets')).toEqual(new Set(['3.7.2'])); // from the GIT section
    expect(versions.get('actionmailer')).toEqual(new Set(['7.0.4.3']));
    expect(versions.get('activesupport')).toEqual(new Set(['7.0.4.3']));
    expect(versions.get('logstash-event')).toEqual(new Set(['1.2.02']));
    expect(versions.get('active_model_serializers')).toEqual(new Set(['0.8.4']));
    expect(versions.get('unf_ext')).toEqual(new Set(['0.0.8.2']));
    expect(versions.get('nokogiri')).toEqual(new Set(['1.14.3'])); // plus platform variants
    expect(versions.get('google-protobuf')).toEqual(new Set(['3.22.3']));
    expect(versions.has('concurrent-ruby')).toBe(true);
    expect(versions.has('rack (> 1, < 3)')).toBe(false);
  });

  it('marks the DEPENDENCIES gems as direct', () => {
    // sed: 136 names under DEPENDENCIES, all of them locked.
    const direct = new Set(packages.filter((p) => p.direct).map((p) => p.name));
    expect(direct.size).toBe(136);
    expect(direct.has('sprockets')).toBe(true);
    expect(direct.has('active_model_serializers')).toBe(true);
    expect(direct.has('concurrent-ruby')).toBe(false);
  });

  it('reads PATH sections, RUBY VERSION and CRLF files', () => {
    const lock = [
      'PATH',
      '  remote: engines/billing',
      '  specs:',
      '    billing (0.1.0)',
      '      rails (>= 7)',
      '',
      'GEM',
      '  remote: https://rubygems.org/',
      '  specs:',
      '    rails (7.1.0)',
      '    ffi (1.16.3-x86_64-linux)',
      '',
      'DEPENDENCIES',
      '  billing!',
      '  rails (~> 7.1)',
      '',
      'RUBY VERSION',
      '   ruby 3.2.2p53',
      '',
      'BUNDLED WITH',
      '   2.5.3',
      '',
    ].join('\r\n');
    expect(parseGemfileLock(lock)).toEqual({
      packages: [
        { ecosystem: 'gem', name: 'billing', version: '0.1.0', direct: true },
        { ecosystem: 'gem', name: 'rails', version: '7.1.0', direct: true },
        { ecosystem: 'gem', name: 'ffi', version: '1.16.3', direct: false },
      ],
      meta: { ruby: 'ruby 3.2.2p53', bundledWith: '2.5.3' },
    });
  });
});
