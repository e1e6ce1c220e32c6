import { describe, expect, it } from 'vitest';
import { formatAge, formatLabels, formatPercent, formatTime, formatValue, shortFingerprint } from './format.js';

describe('formatAge', () => {
  it.each([
    [0, '0s'],
    [12, '12s'],
    [303, '5m 3s'],
    [7_500, '2h 5m'],
    [273_600, '3d 4h'],
    [86_400, '1d 0h'],
  ])('%i s -> %s', (seconds, text) => {
    expect(formatAge(seconds)).toBe(text);
  });
});

describe('formatPercent', () => {
  it('rounds down so that short of parity never reads 100%', () => {
    expect(formatPercent(1)).toBe('100%');
    expect(formatPercent(0.875)).toBe('87.5%');
    expect(formatPercent(934 / 935)).toBe('99.8%');
    expect(formatPercent(0.9999)).toBe('99.9%');
    expect(formatPercent(0)).toBe('0%');
  });
});

describe('values', () => {
  it('shows strings as is, others as JSON, absent as -', () => {
    expect(formatValue('v1')).toBe('v1');
    expect(formatValue(8)).toBe('8');
    expect(formatValue(null)).toBe('null');
    expect(formatValue(['a', 1])).toBe('["a",1]');
    expect(formatValue(undefined)).toBe('-');
  });

  it('formats times, fingerprints and labels', () => {
    expect(formatTime('2026-01-31T12:00:00.123Z')).toBe('2026-01-31 12:00:00Z');
    expect(formatTime(null)).toBe('-');
    expect(shortFingerprint('ep1:0123456789abcdef')).toBe('0123456789ab');
    expect(shortFingerprint(null)).toBe('-');
    expect(formatLabels({ service: 'api', tier: 'web' })).toBe('service=api,tier=web');
    expect(formatLabels({})).toBe('-');
  });
});
