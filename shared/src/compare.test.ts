import { describe, expect, it } from 'vitest';
import {
  compareFacts,
  createExceptionMatcher,
  createSecretPolicyMatcher,
  type ExceptionRule,
  isExceptionActive,
  isSecretHash,
  SECRET_HASH_PREFIX,
  type SecretPolicyRule,
} from './compare.js';
import type { FactMap } from './facts.js';

const staging: FactMap = {
  'os.kernel.release': '6.1.0',
  'config.env.LOG_LEVEL': 'debug',
  'config.env.FEATURE_X': 'on',
  'library.dpkg.openssl': '3.0.11',
  'hardware.cpu.cores': 2,
  'host.hostname': 's1',
  'os.uptime': 5,
};
const production: FactMap = {
  'os.kernel.release': '6.1.0',
  'config.env.LOG_LEVEL': 'info',
  'library.dpkg.openssl': '3.0.13',
  'library.dpkg.curl': '7.88',
  'hardware.cpu.cores': 16,
  'host.hostname': 'p1',
  'os.uptime': 500,
};

describe('compareFacts', () => {
  it('lists behavior differences as drift and scale as scale; never identity or volatile', () => {
    const result = compareFacts(staging, production);
    expect(result.differences).toEqual([
      { path: 'config.env.FEATURE_X', category: 'config', status: 'drift', from: 'on' },
      { path: 'config.env.LOG_LEVEL', category: 'config', status: 'drift', from: 'debug', to: 'info' },
      { path: 'hardware.cpu.cores', category: 'hardware', status: 'scale', from: 2, to: 16 },
      { path: 'library.dpkg.curl', category: 'library', status: 'drift', to: '7.88' },
      { path: 'library.dpkg.openssl', category: 'library', status: 'drift', from: '3.0.11', to: '3.0.13' },
    ]);
    // 5 behavior paths compared, 1 equal (kernel); scale does not count.
    expect(result.compared).toBe(5);
    expect(result.parity).toBeCloseTo(1 / 5);
  });

  it('narrows by category', () => {
    const result = compareFacts(staging, production, { categories: ['library'] });
    expect(result.differences.map((d) => d.path)).toEqual(['library.dpkg.curl', 'library.dpkg.openssl']);
    expect(result.parity).toBe(0);
  });

  it('marks differences covered by an exception as justified and counts them as equal', () => {
    const exceptions: ExceptionRule[] = [
      {
        id: 'ex1',
        path: 'config.env.LOG_LEVEL',
        environments: ['production', 'staging'],
        reason: 'verbose logs in staging',
      },
    ];
    const result = compareFacts(staging, production, {
      exceptions,
      fromEnvironment: 'staging',
      toEnvironment: 'production',
    });
    const logLevel = result.differences.find((d) => d.path === 'config.env.LOG_LEVEL');
    expect(logLevel).toMatchObject({
      status: 'justified',
      exception: { id: 'ex1', reason: 'verbose logs in staging' },
    });
    expect(result.parity).toBeCloseTo(2 / 5);
  });

  it('ignores exceptions for other environments and expired ones', () => {
    const now = new Date('2026-06-01T00:00:00Z');
    const rules: ExceptionRule[] = [
      { id: 'a', path: 'config.**', environments: ['dev', 'staging'], reason: 'x' },
      {
        id: 'b',
        path: 'config.**',
        environments: ['staging', 'production'],
        reason: 'y',
        expiresAt: '2026-05-01T00:00:00Z',
      },
    ];
    const result = compareFacts(staging, production, {
      exceptions: rules,
      fromEnvironment: 'staging',
      toEnvironment: 'production',
      now,
    });
    expect(result.differences.filter((d) => d.status === 'justified')).toEqual([]);
    expect(isExceptionActive(rules[1] as ExceptionRule, new Date('2026-04-01T00:00:00Z'))).toBe(true);
  });

  it('is 1 when there is nothing to compare', () => {
    expect(compareFacts({}, {}).parity).toBe(1);
  });

  it('matches exceptions by glob, and a single environment covers differences inside it', () => {
    const match = createExceptionMatcher(
      [{ id: 'x', path: 'library.dpkg.*', environments: ['production'], reason: 'r' }],
      'production',
      'production',
    );
    expect(match('library.dpkg.openssl')?.id).toBe('x');
    expect(match('config.env.A')).toBeUndefined();
  });
});

describe('compareFacts with a secret policy', () => {
  const hash = (n: string) => `${SECRET_HASH_PREFIX}${n.repeat(64).slice(0, 64)}`;
  const stagingSecrets: FactMap = {
    'config.env.DB_PASSWORD': hash('a'),
    'config.env.API_TOKEN': hash('b'),
    'config.env.SESSION_KEY': hash('c'),
    'config.env.LOG_LEVEL': 'debug',
  };
  const productionSecrets: FactMap = {
    'config.env.DB_PASSWORD': hash('a'), // staging uses the production password
    'config.env.API_TOKEN': hash('d'), // differs, as it should
    'config.env.SESSION_KEY': hash('e'), // should be shared, but differs
    'config.env.LOG_LEVEL': 'debug',
  };
  const secretPolicy: SecretPolicyRule[] = [
    { glob: 'config.env.SESSION_KEY', expect: 'equal' },
    { glob: 'config.env.*', expect: 'differ' },
  ];
  const sides = { fromEnvironment: 'staging', toEnvironment: 'production' };

  it('without a policy keeps today’s behaviour: different hashes are drift, equal ones parity', () => {
    const result = compareFacts(stagingSecrets, productionSecrets, sides);
    expect(result.differences.map((d) => [d.path, d.status])).toEqual([
      ['config.env.API_TOKEN', 'drift'],
      ['config.env.SESSION_KEY', 'drift'],
    ]);
    expect(result.parity).toBeCloseTo(2 / 4);
  });

  it('differ: equal hashes are the finding, different ones no difference; equal: the reverse', () => {
    const result = compareFacts(stagingSecrets, productionSecrets, { ...sides, secretPolicy });
    expect(result.differences).toEqual([
      {
        path: 'config.env.DB_PASSWORD',
        category: 'config',
        status: 'secret-policy',
        secretPolicy: 'differ',
        from: hash('a'),
        to: hash('a'),
      },
      {
        path: 'config.env.SESSION_KEY',
        category: 'config',
        status: 'secret-policy',
        secretPolicy: 'equal',
        from: hash('c'),
        to: hash('e'),
      },
    ]);
    // API_TOKEN (differs as wanted) and LOG_LEVEL (not a secret, equal) are parity; the findings count like drift.
    expect(result.compared).toBe(4);
    expect(result.parity).toBeCloseTo(2 / 4);
  });

  it('applies only to secret hashes on both sides, and never inside one environment', () => {
    const clear = compareFacts(
      { 'config.env.DB_PASSWORD': 'x' },
      { 'config.env.DB_PASSWORD': 'x' },
      { ...sides, secretPolicy },
    );
    expect(clear.differences).toEqual([]);
    const missing = compareFacts({ 'config.env.DB_PASSWORD': hash('a') }, {}, { ...sides, secretPolicy });
    expect(missing.differences.map((d) => d.status)).toEqual(['drift']);
    const inside = compareFacts(stagingSecrets, productionSecrets, {
      fromEnvironment: 'production',
      toEnvironment: 'production',
      secretPolicy,
    });
    expect(inside.differences.map((d) => [d.path, d.status])).toEqual([
      ['config.env.API_TOKEN', 'drift'],
      ['config.env.SESSION_KEY', 'drift'],
    ]);
  });

  it('lets an exception justify a policy finding', () => {
    const result = compareFacts(stagingSecrets, productionSecrets, {
      ...sides,
      secretPolicy,
      exceptions: [{ id: 'x', path: 'config.env.DB_PASSWORD', environments: ['staging', 'production'], reason: 'r' }],
    });
    expect(result.differences.find((d) => d.path === 'config.env.DB_PASSWORD')).toMatchObject({
      status: 'justified',
      secretPolicy: 'differ',
      exception: { id: 'x' },
    });
    expect(result.parity).toBeCloseTo(3 / 4);
  });

  it('knows a secret hash when it sees one', () => {
    expect(isSecretHash(hash('f'))).toBe(true);
    expect(isSecretHash('hunter2')).toBe(false);
    expect(isSecretHash(42)).toBe(false);
    expect(createSecretPolicyMatcher(secretPolicy)('config.env.SESSION_KEY')?.expect).toBe('equal');
  });
});

describe('which exceptions apply inside one environment', () => {
  it('a pair exception justifies differences between the pair, not outliers inside one of them', () => {
    const pair = { id: 'p', path: 'config.env.LOG_LEVEL', environments: ['staging', 'production'], reason: 'r' };
    const single = { id: 's', path: 'config.env.LOG_LEVEL', environments: ['production'], reason: 'r' };
    expect(createExceptionMatcher([pair], 'staging', 'production')('config.env.LOG_LEVEL')?.id).toBe('p');
    expect(createExceptionMatcher([pair], 'production', 'production')('config.env.LOG_LEVEL')).toBeUndefined();
    expect(createExceptionMatcher([single], 'production', 'production')('config.env.LOG_LEVEL')?.id).toBe('s');
    expect(createExceptionMatcher([single], 'staging', 'production')('config.env.LOG_LEVEL')).toBeUndefined();
  });
});
