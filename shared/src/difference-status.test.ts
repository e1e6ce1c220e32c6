import { describe, expect, it } from 'vitest';
import {
  DIFFERENCE_STATUS_ORDER,
  DIFFERENCE_STATUSES,
  type DifferenceToJudge,
  differenceStatus,
  differenceStatusRank,
} from './difference-status.js';

const exception = { id: 'exc-1', reason: 'canary runs the new TLS stack' };

describe('differenceStatus', () => {
  it('a behavior difference is drift, or justified when an active exception covers it', () => {
    expect(differenceStatus({ factClass: 'behavior' })).toBe('drift');
    expect(differenceStatus({ factClass: 'behavior', exception: undefined })).toBe('drift');
    expect(differenceStatus({ factClass: 'behavior', exception })).toBe('justified');
  });

  it('a scale difference is scale, with or without an exception', () => {
    expect(differenceStatus({ factClass: 'scale' })).toBe('scale');
    expect(differenceStatus({ factClass: 'scale', exception })).toBe('scale');
  });

  it('judges a path of another class (named in an expectation file) like behavior', () => {
    const cases: DifferenceToJudge[] = [{ factClass: 'identity' }, { factClass: 'volatile' }];
    expect(cases.map(differenceStatus)).toEqual(['drift', 'drift']);
    expect(differenceStatus({ factClass: 'identity', exception })).toBe('justified');
  });
});

describe('differenceStatusRank', () => {
  it('orders what needs action first, and every status before an unknown one', () => {
    const sorted = ['scale', 'unknown', 'justified', 'secret-policy', 'drift'].sort(
      (a, b) => differenceStatusRank(a) - differenceStatusRank(b),
    );
    expect(sorted).toEqual(['drift', 'secret-policy', 'justified', 'scale', 'unknown']);
    expect(new Set(DIFFERENCE_STATUS_ORDER)).toEqual(new Set(DIFFERENCE_STATUSES));
  });
});
