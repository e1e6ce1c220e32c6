import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import {
  CLOSE_CODES,
  decodeAgentMessage,
  decodeMessage,
  decodeServerMessage,
  encodeMessage,
  MAX_FRAME_BYTES,
  ProtocolError,
  type ProtocolMessage,
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
