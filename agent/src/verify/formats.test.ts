import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { verifyAgainstBaseline, verifyAgainstExpectations } from './evaluate.js';
import { parseExpectationFile } from './expectation.js';
import {
  formatJson,
  formatJunit,
  formatMarkdown,
  formatText,
  VERIFY_JSON_SCHEMA,
  type VerifyReport,
} from './formats.js';
import type { HealthCheckResult } from './run-checks.js';

const baseline = {
  'os.distro.id': 'debian',
  'config.env.LOG_LEVEL': 'info',
  'config.env.FEATURE_X': 'on',
  'library.dpkg.openssl': '3.0.13',
  'hardware.cpu.cores': 16,
  'host.hostname': 'prod-1',
};
const host = {
  'os.distro.id': 'debian',
  'config.env.LOG_LEVEL': 'debug',
  'config.env.FEATURE_X': 'off',
  'library.dpkg.openssl': '3.0.11 <&"\'>',
  'hardware.cpu.cores': 2,
  'host.hostname': 'stage-1',
};
const exceptions = [
  { id: 'ex-1', path: 'config.env.LOG_LEVEL', environments: ['staging', 'production'], reason: 'verbose | logs' },
];

describe('verifyAgainstBaseline', () => {
  const result = verifyAgainstBaseline({ id: 'stage-1', environment: 'staging' }, host, 'production', baseline, {
    exceptions,
  });

  it('has a check per compared path with the right statuses', () => {
    expect(result.checks.map((c) => [c.path, c.status])).toEqual([
      ['config.env.FEATURE_X', 'drift'],
      ['config.env.LOG_LEVEL', 'justified'],
      ['hardware.cpu.cores', 'scale'],
      ['library.dpkg.openssl', 'drift'],
      ['os.distro.id', 'pass'],
    ]);
    expect(result.passed).toBe(false);
    expect(result.summary).toEqual({
      checked: 5,
      pass: 1,
      drift: 2,
      justified: 1,
      scale: 1,
      secretPolicy: 0,
      ignored: 0,
    });
    expect(result.parity).toBeCloseTo(2 / 4);
  });

  it('passes when only justified and scale differences remain, unless strict', () => {
    const h = { ...baseline, 'config.env.LOG_LEVEL': 'debug', 'hardware.cpu.cores': 2 };
    expect(
      verifyAgainstBaseline({ id: 'h', environment: 'staging' }, h, 'production', baseline, { exceptions }).passed,
    ).toBe(true);
    expect(
      verifyAgainstBaseline({ id: 'h', environment: 'staging' }, h, 'production', baseline, {
        exceptions,
        strict: true,
      }).passed,
    ).toBe(false);
  });

  it('limits failing categories with failOn', () => {
    expect(verifyAgainstBaseline({ id: 'h' }, host, 'production', baseline, { failOn: ['os'] }).passed).toBe(true);
    expect(verifyAgainstBaseline({ id: 'h' }, host, 'production', baseline, { failOn: ['library'] }).passed).toBe(
      false,
    );
  });

  const parseJunit = (xml: string) => {
    expect(XMLValidator.validate(xml)).toBe(true);
    const suite = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml).testsuites.testsuite;
    const cases = [suite.testcase].flat() as {
      classname: string;
      name: string;
      failure?: { type: string; message: string; '#text': string };
      'system-out'?: string;
    }[];
    return { suite, cases };
  };

  it('junit is valid XML with one testcase per difference plus a summary, never one per fact', () => {
    const { suite, cases } = parseJunit(formatJunit(result));
    // 4 differences (2 drift, 1 justified, 1 scale) + the summary; the equal path has no testcase.
    expect(Number(suite.tests)).toBe(5);
    expect(cases.map((c) => c.name)).toEqual([
      'config.env.FEATURE_X',
      'config.env.LOG_LEVEL',
      'hardware.cpu.cores',
      'library.dpkg.openssl',
      'summary',
    ]);
    expect(Number(suite.failures)).toBe(3);
    expect(cases.filter((c) => c.failure).map((c) => c.name)).toEqual([
      'config.env.FEATURE_X',
      'library.dpkg.openssl',
      'summary',
    ]);
    expect(cases.find((c) => c.name === 'library.dpkg.openssl')?.failure?.message).toContain('3.0.11 <&"\'>');
    expect(cases.find((c) => c.name === 'config.env.LOG_LEVEL')?.['system-out']).toContain('justified by ex-1');
    const summary = cases.at(-1);
    expect(summary?.classname).toBe('envparity');
    expect(summary?.failure?.message).toMatch(/^FAIL: host stage-1 vs environment production: 2 drift/);
  });

  it('junit of a passing run holds only the passing summary testcase', () => {
    const passing = verifyAgainstBaseline({ id: 'h', environment: 'staging' }, baseline, 'production', baseline);
    const { suite, cases } = parseJunit(formatJunit(passing));
    expect(Number(suite.tests)).toBe(1);
    expect(Number(suite.failures)).toBe(0);
    expect(cases).toHaveLength(1);
    expect(cases[0]?.name).toBe('summary');
    expect(cases[0]?.failure).toBeUndefined();
    expect(cases[0]?.['system-out']).toMatch(/^PASS: /);
  });

  it('junit per category: a testcase per compared category plus the summary', () => {
    const { suite, cases } = parseJunit(formatJunit(result, { per: 'category' }));
    expect(cases.map((c) => c.name)).toEqual(['config', 'hardware', 'library', 'os', 'summary']);
    expect(Number(suite.tests)).toBe(5);
    expect(cases.filter((c) => c.failure).map((c) => c.name)).toEqual(['config', 'library', 'summary']);
    const config = cases.find((c) => c.name === 'config');
    expect(config?.failure?.message).toBe('1 failing: config.env.FEATURE_X');
    expect(config?.failure?.['#text']).toContain('expected: on');
    expect(config?.['system-out']).toContain('2 checked, 0 equal');
    expect(config?.['system-out']).toContain('config.env.LOG_LEVEL: justified by ex-1');
    expect(cases.find((c) => c.name === 'hardware')?.failure).toBeUndefined();
    expect(cases.find((c) => c.name === 'os')?.['system-out']).toBe('1 checked, 1 equal');
    // --strict makes the scale difference fail its category too.
    const strict = verifyAgainstBaseline({ id: 'stage-1', environment: 'staging' }, host, 'production', baseline, {
      exceptions,
      strict: true,
    });
    expect(
      parseJunit(formatJunit(strict, { per: 'category' }))
        .cases.filter((c) => c.failure)
        .map((c) => c.name),
    ).toEqual(['config', 'hardware', 'library', 'summary']);
  });

  it('json has the stable schema and lists only differences', () => {
    const json = JSON.parse(formatJson(result));
    expect(json.schema).toBe(VERIFY_JSON_SCHEMA);
    expect(json.passed).toBe(false);
    expect(json.target).toEqual({ kind: 'environment', name: 'production' });
    expect(json.differences).toHaveLength(4);
    expect(json.differences[1]).toEqual({
      path: 'config.env.LOG_LEVEL',
      category: 'config',
      status: 'justified',
      expected: 'info',
      actual: 'debug',
      exception: { id: 'ex-1', reason: 'verbose | logs' },
    });
  });

  it('text groups by category and ends with the summary; markdown escapes table cells', () => {
    const text = formatText(result);
    expect(text).toContain('config\n  DRIFT config.env.FEATURE_X');
    expect(text.trim().split('\n').at(-1)).toMatch(
      /^FAIL: .* 2 drift, 1 justified, 1 scale, 1 equal of 5 checked — parity 50.0%$/,
    );
    expect(formatText(result, { color: true })).toContain('\x1b[31m');
    const md = formatMarkdown(result);
    expect(md).toContain('| **drift** | `config.env.FEATURE_X` | `on` | `off` |');
    expect(md).toContain('verbose \\| logs');
  });
});

describe('verifyAgainstExpectations', () => {
  const file = parseExpectationFile(`
format: envparity/expectations/v1
facts:
  os.distro.id: debian
  library.dpkg.openssl: /^3\\.0\\./
  config.env.LOG_LEVEL: [info, warn]
  config.env.MISSING: x
  hardware.cpu.cores: 16
  host.hostname: ignore
`);

  it('checks only listed paths; missing facts drift; scale mismatches are scale', () => {
    const result = verifyAgainstExpectations({ id: 'h' }, host, file, 'expect.yaml');
    expect(result.checks.map((c) => [c.path, c.status])).toEqual([
      ['config.env.LOG_LEVEL', 'drift'],
      ['config.env.MISSING', 'drift'],
      ['hardware.cpu.cores', 'scale'],
      ['library.dpkg.openssl', 'pass'],
      ['os.distro.id', 'pass'],
    ]);
    expect(result.summary.ignored).toBe(1);
    expect(result.checks[0]?.expected).toBe('one of "info", "warn"');
    expect(result.parity).toBeCloseTo(2 / 4);
  });
});

describe('verifyAgainstBaseline with the aggregator secretPolicy', () => {
  const prodHash = 'hmac-sha256:aaaa';
  const stagingHash = 'hmac-sha256:bbbb';
  const policy = [{ glob: 'config.env.DB_PASSWORD', expect: 'differ' as const }];
  const judge = (staging: string) =>
    verifyAgainstBaseline(
      { id: 'stage-1', environment: 'staging' },
      { 'os.distro.id': 'debian', 'config.env.DB_PASSWORD': staging },
      'production',
      { 'os.distro.id': 'debian', 'config.env.DB_PASSWORD': prodHash },
      { secretPolicy: policy },
    );

  it('a secret that differs as the policy expects is no difference', () => {
    const result = judge(stagingHash);
    expect(result.passed).toBe(true);
    expect(result.checks.find((c) => c.path === 'config.env.DB_PASSWORD')?.status).toBe('pass');
  });

  it('staging holding the production secret fails the run with status secret-policy', () => {
    const result = judge(prodHash);
    expect(result.passed).toBe(false);
    expect(result.checks.find((c) => c.path === 'config.env.DB_PASSWORD')?.status).toBe('secret-policy');
    expect(result.summary.secretPolicy).toBe(1);
    expect(formatText(result)).toContain('SECRET-POLICY config.env.DB_PASSWORD');
    expect(formatText(result)).toMatch(/1 secret-policy/);
  });

  it('without the policy, differing secrets are drift as before', () => {
    const result = verifyAgainstBaseline(
      { id: 'stage-1', environment: 'staging' },
      { 'config.env.DB_PASSWORD': stagingHash },
      'production',
      { 'config.env.DB_PASSWORD': prodHash },
    );
    expect(result.checks[0]?.status).toBe('drift');
  });
});

describe('the secretPolicy needs to know which environment this host is in', () => {
  it('is not applied when the host environment is unknown or the target itself', () => {
    const facts = { 'config.env.DB_PASSWORD': 'hmac-sha256:aaaa' };
    const policy = { secretPolicy: [{ glob: 'config.env.DB_PASSWORD', expect: 'differ' as const }] };
    for (const environment of [undefined, 'production']) {
      const result = verifyAgainstBaseline(
        { id: 'prod-9', ...(environment ? { environment } : {}) },
        facts,
        'production',
        facts,
        policy,
      );
      expect(result.passed).toBe(true);
      expect(result.checks[0]?.status).toBe('pass');
    }
  });
});

describe('health checks in every format', () => {
  const parity = verifyAgainstBaseline({ id: 'h' }, baseline, 'production', baseline);
  const healthChecks: HealthCheckResult[] = [
    { name: 'api', kind: 'http', ok: false, expected: 'status 200', actual: 'status 503', durationMs: 12, attempts: 4 },
    { name: 'db <port>', kind: 'tcp', ok: true, expected: 'open', actual: 'open', durationMs: 1.5, attempts: 1 },
  ];
  const report: VerifyReport = { ...parity, passed: false, healthChecks };

  it('text lists every check and counts them in the summary line', () => {
    const text = formatText(report);
    expect(text).toContain(
      'checks\n  FAIL api (http)\n      expected status 200\n      actual   status 503\n      4 attempts, 12ms\n',
    );
    expect(text).toContain('  PASS db <port> (tcp)');
    expect(text.trim().split('\n').at(-1)).toMatch(/^FAIL: .* 0 drift, .* parity 100\.0%; checks: 1 of 2 failing$/);
    expect(formatText({ ...parity, healthChecks: [healthChecks[1]!] })).toMatch(/; checks: 1 passing\n$/);
    expect(formatText(parity)).not.toContain('checks');
  });

  it('json carries them under checks, beside the differences', () => {
    const json = JSON.parse(formatJson(report));
    expect(json.passed).toBe(false);
    expect(json.differences).toEqual([]);
    expect(json.checks).toEqual(healthChecks);
    expect(JSON.parse(formatJson(parity)).checks).toEqual([]);
  });

  it('junit has a testcase per check, failing ones with a failure, and a failing summary', () => {
    const xml = formatJunit(report);
    expect(XMLValidator.validate(xml)).toBe(true);
    const suite = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml).testsuites.testsuite;
    const cases = [suite.testcase].flat() as {
      classname: string;
      name: string;
      time: string;
      failure?: { type: string; message: string };
    }[];
    expect(cases.map((c) => [c.classname, c.name, Boolean(c.failure)])).toEqual([
      ['envparity.check.http', 'api', true],
      ['envparity.check.tcp', 'db <port>', false],
      ['envparity', 'summary', true],
    ]);
    expect(cases[0]?.failure).toMatchObject({
      type: 'check',
      message: 'expected status 200; saw status 503 (4 attempts, 12ms)',
    });
    expect(cases[0]?.time).toBe('0.012');
    // Only a check failed: the summary's failure says so rather than drift.
    expect(cases[2]?.failure?.type).toBe('check');
    expect(Number(suite.failures)).toBe(2);
  });

  it('markdown adds a table of checks', () => {
    const md = formatMarkdown(report);
    expect(md).toMatch(/^### envparity: ❌ failing checks — /);
    expect(md).toContain('| ❌ **api** | http | status 200 | status 503 | 4 | 12ms |');
    expect(md).toContain('| ✅ db <port> | tcp | open | open | 1 | 2ms |');
  });
});
