import { applyReport, decodeAgentMessage, encodeMessage, type FactMap, MAX_FRAME_BYTES } from '@envparity/shared';
import { describe, expect, it } from 'vitest';
import { splitReport } from './split-report.js';

function bigCategory(paths: number, valueLength: number): FactMap {
  const facts: FactMap = {};
  for (let i = 0; i < paths; i++) facts[`app.npm.package-${i}`] = `1.${i}.${'0'.repeat(valueLength)}`;
  return facts;
}

describe('splitReport with categories over 65,535 paths (a 175k-package lockfile)', () => {
  it('sends a 70k-path category that fits one frame as one report (no map16 overflow)', () => {
    const app = bigCategory(70_000, 1);
    const pieces = splitReport({}, { observedAt: 1, full: { app } });
    expect(pieces).toHaveLength(1);
    const frame = encodeMessage({ type: 'report', seq: 1, ...(pieces[0] as object), observedAt: 1 });
    const decoded = decodeAgentMessage(frame);
    expect(decoded.type === 'report' && Object.keys(decoded.full?.app ?? {}).length).toBe(70_000);
  });

  it('splits a 175k-path category over the frame limit into decodable pieces that add up to it', () => {
    const app = bigCategory(175_000, 20);
    const pieces = splitReport({}, { observedAt: 1, full: { app } });
    expect(pieces.length).toBeGreaterThan(1);
    let state: FactMap = {};
    for (const [index, piece] of pieces.entries()) {
      const frame = encodeMessage({ type: 'report', seq: index + 1, ...piece });
      expect(frame.length).toBeLessThanOrEqual(MAX_FRAME_BYTES);
      const decoded = decodeAgentMessage(frame);
      if (decoded.type !== 'report') throw new Error('not a report');
      state = applyReport(state, decoded);
    }
    expect(Object.keys(state)).toHaveLength(175_000);
    expect(state['app.npm.package-174999']).toBe(app['app.npm.package-174999']);
  }, 60_000);
});
