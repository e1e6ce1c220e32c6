import { describe, expect, it } from 'vitest';
import { MAX_CLOSE_REASON_BYTES, truncateCloseReason } from './close-reason.js';

describe('truncateCloseReason', () => {
  it('keeps short reasons and cuts long ones on a character boundary', () => {
    expect(truncateCloseReason('enroll refused')).toBe('enroll refused');
    const long = truncateCloseReason('é'.repeat(200));
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(MAX_CLOSE_REASON_BYTES);
    expect(long.endsWith('...')).toBe(true);
    expect(long).not.toContain('\uFFFD');
  });
});
