import { describe, expect, it } from 'vitest';
import { createAgentLogger } from './logger.js';

describe('agent logger', () => {
  it('writes JSON lines with ISO timestamps and redacts secret fields', () => {
    const lines: string[] = [];
    const logger = createAgentLogger('info', { write: (chunk: string) => lines.push(chunk) });
    logger.info({ fleetKey: 'k-secret', nested: { token: 't-secret' }, hostId: 'h1' }, 'hello');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0] as string) as Record<string, unknown>;
    expect(line.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(Math.abs(Date.parse(line.time as string) - Date.now())).toBeLessThan(60_000);
    expect(line).toMatchObject({
      level: 30,
      msg: 'hello',
      name: 'envparity-agent',
      hostId: 'h1',
      fleetKey: '[redacted]',
    });
    expect(lines[0]).not.toContain('k-secret');
    expect(lines[0]).not.toContain('t-secret');
  });
});

describe('agent logger redaction list', () => {
  it("redacts the fields only the aggregator's list held before (authorization, adminToken, facts, value)", () => {
    const lines: string[] = [];
    const logger = createAgentLogger('info', { write: (chunk: string) => lines.push(chunk) });
    logger.info(
      {
        authorization: 'Bearer a-secret',
        adminToken: 'admin-secret',
        facts: { 'config.env.DB_PASSWORD': 'f-secret' },
        value: 'v-secret',
        nested: { authorization: 'n-secret', facts: 'nf-secret', value: 'nv-secret' },
      },
      'oops',
    );
    const line = JSON.parse(lines[0] as string) as Record<string, unknown>;
    expect(line).toMatchObject({
      authorization: '[redacted]',
      adminToken: '[redacted]',
      facts: '[redacted]',
      value: '[redacted]',
      nested: { authorization: '[redacted]', facts: '[redacted]', value: '[redacted]' },
    });
    for (const secret of ['a-secret', 'admin-secret', 'f-secret', 'v-secret', 'n-secret', 'nf-secret', 'nv-secret']) {
      expect(lines[0]).not.toContain(secret);
    }
  });
});
