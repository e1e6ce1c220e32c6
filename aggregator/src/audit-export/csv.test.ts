import { describe, expect, it } from 'vitest';
import { auditReportFixture, HOSTILE_VALUE } from '../../testing/audit-report-fixture.js';
import { AUDIT_CSV_COLUMNS, csvField, renderAuditCsv } from './csv.js';

/** A small RFC 4180 reader, to check the output round-trips. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      row.push(field);
      field = '';
    } else if (char === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += char;
  }
  return rows;
}

describe('renderAuditCsv', () => {
  it('quotes fields with commas, quotes or line breaks and doubles their quotes', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('one\ntwo')).toBe('"one\ntwo"');
    expect(csvField('cr\rlf')).toBe('"cr\rlf"');
  });

  it('writes a header and one CRLF row per difference that reads back to the same values', () => {
    const text = renderAuditCsv({ report: auditReportFixture() });
    expect(text.endsWith('\r\n')).toBe(true);
    const rows = parseCsv(text);
    expect(rows[0]).toEqual([...AUDIT_CSV_COLUMNS]);
    expect(rows).toHaveLength(5);
    expect(rows.every((row) => row.length === AUDIT_CSV_COLUMNS.length)).toBe(true);
    const [, logLevel, motd, secret, dns] = rows;
    expect(logLevel).toEqual([
      'staging',
      'production',
      'promotion',
      'config.env.LOG_LEVEL',
      'config',
      'debug',
      'info',
      'expiring',
      'renew',
      '',
      'ex-1',
      'verbose, "on purpose"\nsee ticket | OPS-1',
      'platform <team>',
      '2025-03-07T09:30:00Z',
    ]);
    expect(motd?.[5]).toBe(HOSTILE_VALUE);
    expect(secret?.slice(5, 10)).toEqual([
      'hmac-sha256:aaaa',
      'hmac-sha256:aaaa',
      'drift',
      'remediate or justify',
      'differ',
    ]);
    // Absent sides are empty, non-strings are JSON.
    expect(dns?.slice(5, 9)).toEqual(['', '["10.0.0.2","10.0.0.3"]', 'scale', '']);
  });
});
