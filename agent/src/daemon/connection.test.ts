import { describe, expect, it } from 'vitest';
import { clampHeartbeatSeconds, isReportRejection } from './connection.js';

describe('connection bounds', () => {
  it('clamps aggregator-supplied heartbeat intervals to 5 s .. 1 h', () => {
    expect(clampHeartbeatSeconds(1e10)).toBe(3600);
    expect(clampHeartbeatSeconds(0.001)).toBe(5);
    expect(clampHeartbeatSeconds(Number.POSITIVE_INFINITY)).toBe(3600);
    expect(clampHeartbeatSeconds(Number.NaN)).toBe(3600);
    expect(clampHeartbeatSeconds(30)).toBe(30);
  });

  it('tells a rejected report from other closes', () => {
    expect(isReportRejection(4002, 'report: full.os: path of category "library"')).toBe(true);
    expect(isReportRejection(4002, 'hello: token: too long')).toBe(false);
    expect(isReportRejection(4003, 'frame is 5000000 bytes')).toBe(true);
    expect(isReportRejection(1009, '')).toBe(true);
    expect(isReportRejection(1011, 'internal error')).toBe(false);
    expect(isReportRejection(4010, 'unauthorized')).toBe(false);
  });
});
