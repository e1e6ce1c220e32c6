import { describe, expect, it } from 'vitest';
import { auditReportFixture, auditSinceFixture, FIXTURE_AT } from '../../testing/audit-report-fixture.js';
import { renderAudit } from './index.js';
import { auditDocument } from './json.js';
import { auditDocumentSchema } from './json-schema.js';

describe('the JSON document envparity/audit/v1', () => {
  it('tags the schema, turns every time into ISO and validates against its own schema', () => {
    const document = auditDocument({
      report: auditReportFixture(),
      audit: { id: 4, at: FIXTURE_AT, author: 'ci' },
      since: auditSinceFixture(),
    });
    expect(auditDocumentSchema.parse(document)).toBeTruthy();
    expect(document.schema).toBe('envparity/audit/v1');
    expect(document.generatedAt).toBe('2025-03-04T09:30:00.000Z');
    expect(document.audit).toEqual({ id: 4, at: '2025-03-04T09:30:00.000Z', author: 'ci' });
    expect(document.pairs[0]?.differences[0]?.exception?.expiresAt).toBe('2025-03-07T09:30:00.000Z');
    expect(document.since?.counts.new).toBe(1);
  });

  it('renders each format with its content type and a dated attachment name', () => {
    const input = { report: auditReportFixture() };
    expect(renderAudit('json', input)).toMatchObject({
      contentType: 'application/json; charset=utf-8',
      filename: 'envparity-audit-2025-03-04.json',
    });
    expect(JSON.parse(renderAudit('json', input).body).schema).toBe('envparity/audit/v1');
    expect(renderAudit('markdown', input).filename).toBe('envparity-audit-2025-03-04.md');
    expect(renderAudit('html', input).contentType).toBe('text/html; charset=utf-8');
    expect(renderAudit('csv', input).filename).toBe('envparity-audit-2025-03-04.csv');
  });
});
