import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { compilePathGlob } from './glob.js';
import {
  CLOSE_CODES,
  clampTimestamp,
  DEFAULT_MAX_CLOCK_SKEW_MS,
  declaredProbeName,
  decodeAgentMessage,
  decodeMessage,
  decodeServerMessage,
  encodeMessage,
  isProbeErrorPath,
  MAX_DECLARED_CLASSES,
  MAX_EPOCH_MS,
  MAX_FRAME_BYTES,
  MAX_SEQ,
  MAX_TOKEN_LENGTH,
  MAX_VALUE_BYTES,
  ProtocolError,
  type ProtocolMessage,
  probeClassRules,
} from './protocol.js';

const samples: ProtocolMessage[] = [
  {
    type: 'enroll',
    v: 1,
    enrollSecret: 's3cret',
    hostId: 'web-1',
    environment: 'staging',
    labels: { service: 'api' },
    agentVersion: '0.1.0',
  },
  {
    type: 'hello',
    v: 1,
    token: 't',
    hostId: 'web-1',
    labels: {},
    agentVersion: '0.1.0',
    lastAckedSeq: 7,
    fingerprints: { os: 'ep1:abc' },
  },
  { type: 'report', seq: 8, observedAt: 1_795_000_000_000, full: { os: { 'os.distro.id': 'debian' } } },
  {
    type: 'report',
    seq: 9,
    observedAt: 1_795_000_000_001,
    delta: { config: { set: { 'config.env.A': '1' }, unset: ['config.env.B'] } },
  },
  { type: 'heartbeat' },
  { type: 'enrolled', hostId: 'web-1', token: 'tok', fleetKey: 'key' },
  { type: 'welcome', lastSeq: 7, need: ['os'], heartbeatSeconds: 30 },
  { type: 'ack', seq: 8 },
  { type: 'collect', categories: ['config'] },
  { type: 'resync', reason: 'store was reset' },
  { type: 'error', code: 'UNAUTHORIZED', message: 'bad token' },
];

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof ProtocolError) return error.code;
    throw error;
  }
  return undefined;
}

describe('encode / decode', () => {
  it.each(samples.map((m) => [m.type, m] as const))('round-trips %s', (_type, message) => {
    expect(decodeMessage(encodeMessage(message))).toEqual(message);
  });

  it('keeps the directions apart', () => {
    expect(decodeAgentMessage(encodeMessage({ type: 'heartbeat' }))).toEqual({ type: 'heartbeat' });
    expect(codeOf(() => decodeAgentMessage(encodeMessage({ type: 'ack', seq: 1 })))).toBe('UNKNOWN_TYPE');
    expect(codeOf(() => decodeServerMessage(encodeMessage({ type: 'heartbeat' })))).toBe('UNKNOWN_TYPE');
  });

  it('makes a heartbeat tiny and a one-path delta small', () => {
    expect(encodeMessage({ type: 'heartbeat' }).length).toBeLessThan(32);
    const oneChange = encodeMessage({
      type: 'report',
      seq: 123456,
      observedAt: Date.now(),
      delta: { config: { set: { 'config.env.LOG_LEVEL': 'debug' }, unset: [] } },
    });
    expect(oneChange.length).toBeLessThan(128);
  });
});

describe('hello classes', () => {
  const hello = {
    type: 'hello',
    v: 1,
    token: 't',
    hostId: 'web-1',
    labels: {},
    agentVersion: '0.2.0',
    lastAckedSeq: 0,
    fingerprints: {},
  } as const;

  it('carries declared probe classes, and an old agent without them still decodes', () => {
    const classes = [{ glob: 'probe.orders.**', class: 'scale' as const }];
    expect(decodeAgentMessage(encodeMessage({ ...hello, classes }))).toEqual({ ...hello, classes });
    expect(decodeAgentMessage(pack(hello))).toEqual(hello);
  });

  it('ignores fields it does not know (as an older aggregator ignores `classes`)', () => {
    const decoded = decodeAgentMessage(pack({ ...hello, futureField: [1, 2] }));
    expect(decoded).toEqual(hello);
  });

  it('refuses identity, unknown classes and more than MAX_DECLARED_CLASSES rules', () => {
    for (const factClass of ['identity', 'size']) {
      expect(
        codeOf(() => decodeAgentMessage(pack({ ...hello, classes: [{ glob: 'probe.a.**', class: factClass }] }))),
      ).toBe('SCHEMA_VIOLATION');
    }
    const rules = (count: number) =>
      Array.from({ length: count }, (_, i) => ({ glob: `probe.p${i}.**`, class: 'scale' }));
    expect(decodeAgentMessage(pack({ ...hello, classes: rules(MAX_DECLARED_CLASSES) })).type).toBe('hello');
    expect(codeOf(() => decodeAgentMessage(pack({ ...hello, classes: rules(MAX_DECLARED_CLASSES + 1) })))).toBe(
      'SCHEMA_VIOLATION',
    );
  });
});

describe('declared probe classes', () => {
  it('one probe.<name>.** rule per probe with a class; the glob also matches the probe itself', () => {
    const rules = probeClassRules([
      { name: 'orders', class: 'scale' },
      { name: 'version' },
      { name: 'os-id', class: 'volatile' },
    ]);
    expect(rules).toEqual([
      { glob: 'probe.orders.**', class: 'scale' },
      { glob: 'probe.os-id.**', class: 'volatile' },
    ]);
    const glob = compilePathGlob('probe.orders.**');
    expect(glob.matches('probe.orders')).toBe(true);
    expect(glob.matches('probe.orders.orders')).toBe(true);
    expect(glob.matches('probe.ordersx')).toBe(false);
  });

  it('names the probe of a glob under probe.<literal name>, else undefined', () => {
    expect(declaredProbeName('probe.orders.**')).toBe('orders');
    expect(declaredProbeName('probe.orders')).toBe('orders');
    expect(declaredProbeName('probe["orders"].rows')).toBe('orders');
    for (const glob of [
      'probe.*.**',
      'probe.ord*.**',
      'probe.**',
      '**',
      'os.orders.**',
      'probe["a.b"].**',
      'probe..x',
    ]) {
      expect(declaredProbeName(glob)).toBeUndefined();
    }
  });

  it('knows the probe error path', () => {
    expect(isProbeErrorPath(['probe', 'orders', 'error'], 'orders')).toBe(true);
    expect(isProbeErrorPath(['probe', 'orders', 'errors'], 'orders')).toBe(false);
    expect(isProbeErrorPath(['probe', 'orders', 'x', 'error'], 'orders')).toBe(false);
    expect(isProbeErrorPath(['probe', 'other', 'error'], 'orders')).toBe(false);
  });
});

describe('ProtocolError', () => {
  it('MALFORMED for bytes that are not msgpack or not a map', () => {
    expect(codeOf(() => decodeAgentMessage(new Uint8Array([0xc1])))).toBe('MALFORMED');
    expect(codeOf(() => decodeAgentMessage(new Uint8Array([0x92, 0x01])))).toBe('MALFORMED');
    expect(codeOf(() => decodeAgentMessage(pack([1, 2])))).toBe('MALFORMED');
    expect(codeOf(() => decodeAgentMessage(pack({ seq: 1 })))).toBe('MALFORMED');
  });

  it('UNKNOWN_TYPE for a type nobody defined', () => {
    expect(codeOf(() => decodeAgentMessage(pack({ type: 'shutdown' })))).toBe('UNKNOWN_TYPE');
  });

  it('SCHEMA_VIOLATION naming the field', () => {
    let error: unknown;
    try {
      decodeAgentMessage(pack({ type: 'report', seq: -1, observedAt: 1, full: {} }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe('SCHEMA_VIOLATION');
    expect((error as ProtocolError).message).toContain('seq');
    expect((error as ProtocolError).closeCode).toBe(CLOSE_CODES.schemaViolation);
    expect(codeOf(() => decodeAgentMessage(pack({ type: 'report', seq: 1, observedAt: 1 })))).toBe('SCHEMA_VIOLATION');
    expect(
      codeOf(() =>
        decodeAgentMessage(
          pack({ type: 'hello', v: 1, token: 't', hostId: 'bad id!', agentVersion: 'x', lastAckedSeq: 0 }),
        ),
      ),
    ).toBe('SCHEMA_VIOLATION');
  });

  it('OVERSIZE for frames over the limit, on both sides', () => {
    expect(codeOf(() => decodeAgentMessage(new Uint8Array(MAX_FRAME_BYTES + 1)))).toBe('OVERSIZE');
    const big = { type: 'report', seq: 1, observedAt: 1, full: { os: { 'os.x': 'y'.repeat(2000) } } } as const;
    expect(codeOf(() => encodeMessage(big, 1000))).toBe('OVERSIZE');
    expect(codeOf(() => decodeAgentMessage(encodeMessage(big), 1000))).toBe('OVERSIZE');
  });

  it('refuses to encode an invalid message', () => {
    expect(codeOf(() => encodeMessage({ type: 'ack', seq: -5 }))).toBe('SCHEMA_VIOLATION');
  });
});

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof ProtocolError) return `${error.code}: ${error.message}`;
    throw error;
  }
  return 'no error';
}

describe('bounds (issue 10)', () => {
  const hello = { type: 'hello', v: 1, hostId: 'web-1', labels: {}, agentVersion: '0.1.0', lastAckedSeq: 0 };

  it('rejects a seq above 2^52 with a clear error, and accepts 2^52', () => {
    expect(decodeAgentMessage(pack({ type: 'report', seq: MAX_SEQ, observedAt: 1, full: {} }))).toMatchObject({
      seq: MAX_SEQ,
    });
    const message = messageOf(() =>
      decodeAgentMessage(pack({ type: 'report', seq: Number.MAX_SAFE_INTEGER, observedAt: 1, full: {} })),
    );
    expect(message).toMatch(/^SCHEMA_VIOLATION: report: seq: a seq is at most 2\^52/);
    expect(codeOf(() => encodeMessage({ type: 'ack', seq: MAX_SEQ + 1 }))).toBe('SCHEMA_VIOLATION');
    expect(codeOf(() => decodeAgentMessage(pack({ ...hello, token: 't', lastAckedSeq: 2 ** 53 - 1 })))).toBe(
      'SCHEMA_VIOLATION',
    );
  });

  it('lets a welcome carry any safe integer lastSeq, so the agent can repair a poisoned one', () => {
    const welcome = decodeServerMessage(pack({ type: 'welcome', lastSeq: 2 ** 53 - 1, need: [] }));
    expect(welcome).toMatchObject({ lastSeq: 2 ** 53 - 1 });
    expect(codeOf(() => decodeServerMessage(pack({ type: 'welcome', lastSeq: 2 ** 53, need: [] })))).toBe(
      'SCHEMA_VIOLATION',
    );
  });

  it('bounds tokens to 512 characters in every message', () => {
    const long = 'x'.repeat(MAX_TOKEN_LENGTH + 1);
    const ok = 'x'.repeat(MAX_TOKEN_LENGTH);
    expect(codeOf(() => decodeAgentMessage(pack({ ...hello, token: long })))).toBe('SCHEMA_VIOLATION');
    expect(codeOf(() => decodeAgentMessage(pack({ ...hello, token: ok })))).toBeUndefined();
    const enrolled = { type: 'enrolled', hostId: 'web-1', token: long, fleetKey: 'k' };
    expect(codeOf(() => decodeServerMessage(pack(enrolled)))).toBe('SCHEMA_VIOLATION');
    expect(codeOf(() => decodeServerMessage(pack({ ...enrolled, token: 't', fleetKey: long })))).toBe(
      'SCHEMA_VIOLATION',
    );
    const enroll = { type: 'enroll', v: 1, hostId: 'web-1', agentVersion: '1', enrollSecret: long };
    expect(codeOf(() => decodeAgentMessage(pack(enroll)))).toBe('SCHEMA_VIOLATION');
    expect(codeOf(() => encodeMessage({ type: 'enrolled', hostId: 'h', token: long, fleetKey: 'k' }))).toBe(
      'SCHEMA_VIOLATION',
    );
  });

  it('rejects times outside the Date range, and non-finite ones', () => {
    const report = (observedAt: unknown) => pack({ type: 'report', seq: 1, observedAt, full: {} });
    expect(codeOf(() => decodeAgentMessage(report(MAX_EPOCH_MS)))).toBeUndefined();
    expect(messageOf(() => decodeAgentMessage(report(MAX_EPOCH_MS + 1)))).toContain('observedAt');
    expect(codeOf(() => decodeAgentMessage(report(Number.POSITIVE_INFINITY)))).toBe('SCHEMA_VIOLATION');
    expect(codeOf(() => decodeAgentMessage(report(Number.NaN)))).toBe('SCHEMA_VIOLATION');
    expect(codeOf(() => decodeAgentMessage(report(-1)))).toBe('SCHEMA_VIOLATION');
  });

  it('clamps times outside the server time plus or minus the skew, and says by how much', () => {
    const now = 1_800_000_000_000;
    expect(clampTimestamp(now + 1000, now)).toEqual({ value: now + 1000 });
    expect(clampTimestamp(now + 10 * DEFAULT_MAX_CLOCK_SKEW_MS, now)).toEqual({
      value: now + DEFAULT_MAX_CLOCK_SKEW_MS,
      skewMs: 10 * DEFAULT_MAX_CLOCK_SKEW_MS,
    });
    expect(clampTimestamp(0, now, 60_000)).toEqual({ value: now - 60_000, skewMs: -now });
  });

  it('accepts only known categories (plus probe, service, process, security)', () => {
    const report = (category: string) =>
      pack({ type: 'report', seq: 1, observedAt: 1, full: { [category]: { [`${category}.a`]: 1 } } });
    for (const category of ['os', 'library', 'probe', 'service', 'process', 'security']) {
      expect(codeOf(() => decodeAgentMessage(report(category)))).toBeUndefined();
    }
    expect(messageOf(() => decodeAgentMessage(report('bogus')))).toContain('full.bogus: not a known category');
    expect(codeOf(() => decodeAgentMessage(report('__proto__')))).toBe('SCHEMA_VIOLATION');
  });

  it('rejects a value over 64 KB, counting UTF-8 bytes', () => {
    const report = (value: unknown) =>
      pack({ type: 'report', seq: 1, observedAt: 1, delta: { config: { set: { 'config.a': value }, unset: [] } } });
    expect(codeOf(() => decodeAgentMessage(report('a'.repeat(MAX_VALUE_BYTES))))).toBeUndefined();
    expect(messageOf(() => decodeAgentMessage(report('a'.repeat(MAX_VALUE_BYTES + 1))))).toContain(
      'over the 65536-byte limit',
    );
    // 30k three-byte characters: 90 KB of UTF-8 in 30k UTF-16 units.
    expect(codeOf(() => decodeAgentMessage(report('€'.repeat(30_000))))).toBe('SCHEMA_VIOLATION');
    expect(codeOf(() => decodeAgentMessage(report(['a'.repeat(40_000), 'b'.repeat(40_000)])))).toBe('SCHEMA_VIOLATION');
  });

  it('encodes and decodes a category of more than 65,535 paths', () => {
    const facts: Record<string, string> = {};
    for (let i = 0; i < 70_000; i++) facts[`app.npm.pkg${i}`] = `1.0.${i}`;
    const bytes = encodeMessage({ type: 'report', seq: 1, observedAt: 1, full: { app: facts } });
    const decoded = decodeAgentMessage(bytes);
    expect(decoded.type === 'report' && Object.keys(decoded.full?.app ?? {}).length).toBe(70_000);
  });

  it('refuses a report of more than 200k paths', () => {
    const facts: Record<string, number> = {};
    for (let i = 0; i < 200_001; i++) facts[`app.p${i}`] = 1;
    expect(
      messageOf(() => encodeMessage({ type: 'report', seq: 1, observedAt: 1, full: { app: facts } }, 2 ** 30)),
    ).toContain('at most 200000 paths');
  });
});
