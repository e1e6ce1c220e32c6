import { REDACTED_LOG_FIELDS } from '@envparity/shared';
import { describe, expect, it } from 'vitest';
import { createLogger, REDACTED_LOG_KEYS } from './logger.js';

function capture(): { lines: string[]; destination: { write(chunk: string): void } } {
  const lines: string[] = [];
  return { lines, destination: { write: (chunk: string) => void lines.push(chunk) } };
}

describe('aggregator logger', () => {
  it('writes JSON lines with ISO timestamps and redacts its own secret fields', () => {
    const { lines, destination } = capture();
    createLogger('info', destination).info(
      { adminToken: 'admin-secret', authorization: 'Bearer a-secret', request: { value: 'v-secret' }, hostId: 'h1' },
      'hello',
    );
    const line = JSON.parse(lines[0] as string) as Record<string, unknown>;
    expect(line.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(line).toMatchObject({
      level: 30,
      msg: 'hello',
      hostId: 'h1',
      adminToken: '[redacted]',
      authorization: '[redacted]',
      request: { value: '[redacted]' },
    });
    for (const secret of ['admin-secret', 'a-secret', 'v-secret']) expect(lines[0]).not.toContain(secret);
  });

  it("redacts every field of the agent's list too (one list for both sides)", () => {
    expect(REDACTED_LOG_KEYS).toBe(REDACTED_LOG_FIELDS);
    // The agent's former REDACTED_FIELDS, top level and one level down.
    const agentFields = ['token', 'enrollSecret', 'fleetKey', 'secret'];
    const { lines, destination } = capture();
    const fields: Record<string, unknown> = { nested: {} };
    for (const field of agentFields) {
      fields[field] = `${field}-top`;
      (fields.nested as Record<string, string>)[field] = `${field}-nested`;
    }
    createLogger('info', destination).info(fields, 'agent fields');
    const line = JSON.parse(lines[0] as string) as Record<string, unknown>;
    for (const field of agentFields) {
      expect(line[field]).toBe('[redacted]');
      expect((line.nested as Record<string, unknown>)[field]).toBe('[redacted]');
      expect(lines[0]).not.toContain(`${field}-top`);
      expect(lines[0]).not.toContain(`${field}-nested`);
    }
  });
});
