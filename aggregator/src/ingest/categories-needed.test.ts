import { fingerprintMap } from '@envparity/shared';
import { describe, expect, it } from 'vitest';
import { categoriesNeeded } from './categories-needed.js';

describe('categoriesNeeded', () => {
  it('lists categories that differ or that one side lacks, treating absent as empty', () => {
    const stored = new Map([
      ['os', 'ep1:os'],
      ['library', 'ep1:lib'],
    ]);
    expect(
      categoriesNeeded(stored, { os: 'ep1:os', library: 'ep1:other', app: 'ep1:app', probe: fingerprintMap({}) }),
    ).toEqual(['app', 'library']);
    expect(categoriesNeeded(stored, {})).toEqual(['library', 'os']);
    expect(categoriesNeeded(new Map(), { constructor: fingerprintMap({}) })).toEqual([]);
  });
});
