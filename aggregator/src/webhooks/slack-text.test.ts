import { describe, expect, it } from 'vitest';
import type { DriftEvent, DriftEventRecord } from '../drift/events.js';
import { escapeSlackText, formatWebhookText, MAX_WEBHOOK_TEXT_VALUE_CHARS } from './slack-text.js';

const AT = '2026-05-04T10:00:00.000Z';
const record = (fields: Partial<DriftEventRecord>): DriftEventRecord => ({
  id: 'd1',
  kind: 'outlier',
  environment: 'production',
  hostId: 'p3',
  path: 'config.env.LOG_LEVEL',
  status: 'open',
  openedAt: AT,
  ...fields,
});
const opened = (fields: Partial<DriftEventRecord>): DriftEvent => ({
  type: 'drift.opened',
  at: AT,
  data: record(fields),
});
const resolved = (fields: Partial<DriftEventRecord>): DriftEvent => ({
  type: 'drift.resolved',
  at: AT,
  data: record(fields),
});

describe('formatWebhookText', () => {
  it('summarizes outlier drift', () => {
    expect(formatWebhookText(opened({ expected: 'info', actual: 'debug' }))).toBe(
      'Drift opened in production: host p3 config.env.LOG_LEVEL is "debug", baseline "info". To do: bring the host back to the baseline, or record an exception if intended.',
    );
    expect(formatWebhookText(opened({ expected: 'info' }))).toBe(
      'Drift opened in production: host p3 lacks config.env.LOG_LEVEL, baseline "info". To do: bring the host back to the baseline, or record an exception if intended.',
    );
    expect(formatWebhookText(opened({ actual: 8 }))).toBe(
      'Drift opened in production: host p3 config.env.LOG_LEVEL is 8, not in the baseline. To do: bring the host back to the baseline, or record an exception if intended.',
    );
    expect(formatWebhookText(resolved({ expected: 'info', actual: 'debug' }))).toBe(
      'Drift resolved in production: host p3 config.env.LOG_LEVEL no longer differs from the baseline (was "debug", baseline "info")',
    );
  });

  it('summarizes environment-pair drift', () => {
    const pair = {
      kind: 'environment' as const,
      environment: 'staging',
      otherEnvironment: 'production',
      hostId: undefined,
    };
    expect(formatWebhookText(opened({ ...pair, path: 'runtime.node', expected: '20.11.0', actual: '20.9.0' }))).toBe(
      'Drift opened between staging and production: runtime.node is "20.11.0" in staging, "20.9.0" in production. ' +
        'To do: promote the change, or record an exception if the difference is intended.',
    );
    expect(formatWebhookText(resolved({ ...pair, path: 'runtime.node', expected: '20.11.0' }))).toBe(
      'Drift resolved between staging and production: runtime.node no longer differs (was "20.11.0" in staging, absent in production)',
    );
  });

  it('summarizes emergency changes', () => {
    const base = {
      id: 'e1',
      hostId: 'p3',
      environment: 'production',
      upstream: 'staging',
      path: 'config.env.X',
      changedAt: AT,
    };
    expect(formatWebhookText({ type: 'emergency.change', at: AT, data: { ...base, previous: 'a', value: 'b' } })).toBe(
      'Emergency change on p3 (production): config.env.X changed from "a" to "b", never seen in staging',
    );
    expect(formatWebhookText({ type: 'emergency.change', at: AT, data: { ...base, value: ['x', 'y'] } })).toBe(
      'Emergency change on p3 (production): config.env.X set to ["x","y"], never seen in staging',
    );
    expect(formatWebhookText({ type: 'emergency.change', at: AT, data: { ...base, previous: 'a' } })).toBe(
      'Emergency change on p3 (production): config.env.X removed (was "a"), staging never lacked it',
    );
    expect(
      formatWebhookText(opened({ kind: 'emergency', actual: 'b', upstream: 'staging', path: 'config.env.X' })),
    ).toBe('Emergency drift opened on p3 (production): config.env.X is "b", never seen in staging');
  });

  it('names the hosts of a group, the emergency and what to do, in one text per cause', () => {
    const hosts = { hosts: ['p1', 'p2', 'p3'], hostCount: 3 };
    expect(formatWebhookText(opened({ ...hosts, expected: 'info', actual: 'debug' }))).toBe(
      'Drift opened in production: 3 hosts (p1, p2, p3) config.env.LOG_LEVEL is "debug", baseline "info". ' +
        'To do: bring these hosts back to the baseline, or record an exception if intended.',
    );
    const pair = {
      kind: 'environment' as const,
      environment: 'staging',
      otherEnvironment: 'production',
      hostId: undefined,
      path: 'config.env.X',
      expected: 'a',
      actual: 'b',
    };
    expect(formatWebhookText(opened({ ...pair, ...hosts, emergency: true, upstream: 'staging' }))).toBe(
      'Emergency change in production: config.env.X is "b" on 3 hosts (p1, p2, p3), never seen in staging ("a" there). ' +
        'To do: promote it through staging or roll it back.',
    );
    const many = { hosts: Array.from({ length: 10 }, (_, i) => `h${i}`), hostCount: 25 };
    expect(formatWebhookText(opened({ ...many, expected: 'a', actual: 'b' }))).toContain(
      '25 hosts (h0, h1, h2, h3, h4, h5, h6, h7, h8, h9, +15 more)',
    );
  });

  it('says when a secret the policy wants different is shared', () => {
    const hash = `hmac-sha256:${'ab'.repeat(32)}`;
    const data = {
      kind: 'environment' as const,
      environment: 'staging',
      otherEnvironment: 'production',
      hostId: undefined,
      path: 'config.env.DB_PASSWORD',
      expected: hash,
      actual: hash,
    };
    expect(formatWebhookText(opened(data))).toBe(
      'Secret shared between staging and production: config.env.DB_PASSWORD has the same keyed hash in both, ' +
        'the secret policy expects them to differ. To do: give each environment its own secret.',
    );
  });

  it('says an exception justified a difference, never that it no longer differs', () => {
    const exception = { id: 'x1', reason: 'verbose logs in staging' };
    const text = formatWebhookText(
      resolved({
        kind: 'environment',
        environment: 'staging',
        otherEnvironment: 'production',
        hostId: undefined,
        expected: 'debug',
        actual: 'info',
        resolution: 'justified',
        exception,
      }),
    );
    expect(text).toBe(
      'Drift justified between staging and production: config.env.LOG_LEVEL is justified by exception x1 ' +
        '(verbose logs in staging) ("debug" in staging, "info" in production)',
    );
    expect(text).not.toContain('no longer differs');
    expect(formatWebhookText(resolved({ expected: 'info', actual: 'warn', resolution: 'justified', exception }))).toBe(
      'Drift justified in production: host p3 config.env.LOG_LEVEL is justified by exception x1 (verbose logs in staging) ("warn", baseline "info")',
    );
  });

  it('summarizes a lost host and its return', () => {
    const lost = record({ kind: 'lost', hostId: 'p2', path: '', lastSeen: AT, resolvedEvents: ['7'] });
    expect(formatWebhookText({ type: 'host.lost', at: AT, data: lost })).toBe(
      `Host p2 lost in production: no contact since ${AT}, past the presence grace; it no longer counts in the baseline; ` +
        '1 drift event closed with it. To do: check the host and its agent, or retire it (DELETE /api/v1/hosts/p2).',
    );
    expect(formatWebhookText(resolved({ kind: 'lost', hostId: 'p2', path: '', resolution: 'returned' }))).toBe(
      'Host p2 (production) is back: it reports again and counts in the baseline',
    );
  });

  it('summarizes expired exceptions', () => {
    const data = { id: 'x1', path: 'library.dpkg.*', reason: 'hotfix', owner: 'sre' };
    expect(
      formatWebhookText({
        type: 'exception.expired',
        at: AT,
        data: { ...data, environments: ['staging', 'production'] },
      }),
    ).toBe(
      'Exception expired for library.dpkg.* between staging and production (reason: hotfix, owner sre); its differences count as drift again',
    );
    expect(
      formatWebhookText({
        type: 'exception.expired',
        at: AT,
        data: { id: 'x2', path: 'a.b', reason: 'r', environments: ['qa'] },
      }),
    ).toBe('Exception expired for a.b in qa (reason: r); its differences count as drift again');
  });

  it('escapes mrkdwn control characters, stays on one line and shortens long values', () => {
    const text = formatWebhookText(opened({ expected: 'info', actual: '<!channel> & <http://x|click>\nnext line' }));
    expect(text).not.toMatch(/[<>\n]/);
    expect(text).toContain('&lt;!channel&gt; &amp; &lt;http://x|click&gt;');
    const long = formatWebhookText(opened({ expected: 'x'.repeat(500), actual: 'y' }));
    expect(long).toContain(`"${'x'.repeat(MAX_WEBHOOK_TEXT_VALUE_CHARS - 2)}…`);
    expect(escapeSlackText('a<b>&c')).toBe('a&lt;b&gt;&amp;c');
  });

  it('never throws on unexpected data', () => {
    const odd = { type: 'exception.expired', at: AT, data: {} } as unknown as DriftEvent;
    expect(formatWebhookText(odd)).toBe('envparity event exception.expired');
    const unknown = { type: 'something.else', at: AT, data: {} } as unknown as DriftEvent;
    expect(formatWebhookText(unknown)).toBe('envparity event something.else');
  });
});
