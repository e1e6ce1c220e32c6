import { describe, expect, it } from 'vitest';
import { compareFacts, createExceptionMatcher, type ExceptionRule, isExceptionActive } from './compare.js';
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
