import { describe, expect, it } from 'vitest';
import { parseDuration, parseInstant } from './duration.js';
import { UsageError } from './usage-error.js';

const NOW = Date.parse('2026-01-31T12:00:00.000Z');

describe('parseDuration', () => {
  it.each([
    ['30s', 30_000],
    ['30m', 1_800_000],
    ['2h', 7_200_000],
    ['7d', 604_800_000],
    ['2w', 1_209_600_000],
    ['1.5h', 5_400_000],
  ])('%s -> %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '2', 'h', '2 hours', '-2h', '0h', '2y', '2H'])('%j is not a duration', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('parseInstant', () => {
  it('counts a duration back from now for the past, forward for the future', () => {
    expect(parseInstant('2h', { flag: '--since', direction: 'past', now: NOW })).toBe('2026-01-31T10:00:00.000Z');
    expect(parseInstant('30d', { flag: '--expires', direction: 'future', now: NOW })).toBe('2026-03-02T12:00:00.000Z');
  });

  it('takes ISO 8601 times with a zone, and plain dates, as UTC ISO', () => {
    expect(parseInstant('2026-01-30T08:15:00Z', { flag: '--at', direction: 'past', now: NOW })).toBe(
      '2026-01-30T08:15:00.000Z',
    );
    expect(parseInstant('2026-01-30T10:15:00+02:00', { flag: '--at', direction: 'past', now: NOW })).toBe(
      '2026-01-30T08:15:00.000Z',
    );
    expect(parseInstant('2026-01-30', { flag: '--at', direction: 'past', now: NOW })).toBe('2026-01-30T00:00:00.000Z');
  });

  it('refuses anything else with a UsageError naming the flag and the value', () => {
    for (const text of ['yesterday', '2026-01-30T08:15:00', '2026-13-45T00:00:00Z', '2 hours']) {
      let caught: unknown;
      try {
        parseInstant(text, { flag: '--since', direction: 'past', now: NOW, command: 'changes' });
      } catch (error) {
        caught = error;
      }
      expect(caught, text).toBeInstanceOf(UsageError);
      expect((caught as UsageError).message).toContain(`--since ${JSON.stringify(text)}`);
      expect((caught as UsageError).command).toBe('changes');
    }
  });
});
