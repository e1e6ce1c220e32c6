import { describe, expect, it } from 'vitest';
import { auditExitCode, compareExitCode, EXIT_DRIFT, EXIT_OK } from './exit-codes.js';

describe('compareExitCode', () => {
  it('is 1 when any difference is drift or a secret-policy finding', () => {
    expect(compareExitCode([{ status: 'justified' }, { status: 'drift' }])).toBe(EXIT_DRIFT);
    expect(compareExitCode([{ status: 'secret-policy' }])).toBe(EXIT_DRIFT);
  });

  it('is 0 for no differences, or only justified and scale ones', () => {
    expect(compareExitCode([])).toBe(EXIT_OK);
    expect(compareExitCode([{ status: 'justified' }, { status: 'scale' }])).toBe(EXIT_OK);
  });
});

describe('auditExitCode', () => {
  it('is 1 with --fail-on drift and open differences, else 0', () => {
    expect(auditExitCode({ open: 2 }, 'drift')).toBe(EXIT_DRIFT);
    expect(auditExitCode({ open: 0 }, 'drift')).toBe(EXIT_OK);
    expect(auditExitCode({ open: 2 }, undefined)).toBe(EXIT_OK);
  });
});
