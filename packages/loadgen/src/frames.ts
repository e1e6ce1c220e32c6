/**
 * Report frames built from reusable pieces. A full report of a simulated host is mostly made of
 * category maps shared by hundreds of hosts of the same profile; msgpack values concatenate, so
 * each shared map is encoded (and fingerprinted) once and its bytes are spliced into every frame
 * that carries it. The result is byte-for-byte a valid msgpack map that `decodeAgentMessage`
 * accepts (the unit tests check it against `encodeMessage`), at a fraction of the CPU per host:
 * the load generator must not be the bottleneck of the benchmark it drives.
 */
import { encodeMessage, type FactMap, fingerprintMap, type ReportMessage } from '@envparity/shared';
import { Packr } from 'msgpackr';

// The same options as the shared codec: plain maps, no records, so every frame stands alone.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false });

const encodedMaps = new WeakMap<FactMap, Uint8Array>();
const mapFingerprints = new WeakMap<FactMap, string>();

/** `fingerprintMap(map)`, computed once per map object (shared maps are reused across hosts). */
export function cachedFingerprint(map: FactMap): string {
  let fingerprint = mapFingerprints.get(map);
  if (fingerprint === undefined) {
    fingerprint = fingerprintMap(map);
    mapFingerprints.set(map, fingerprint);
  }
  return fingerprint;
}

/** A standalone copy: msgpackr may hand out views into a buffer it reuses. */
function pack(value: unknown): Uint8Array {
  return Uint8Array.prototype.slice.call(packr.pack(value));
}

function encodedMap(map: FactMap): Uint8Array {
  let bytes = encodedMaps.get(map);
  if (!bytes) {
    bytes = pack(map);
    encodedMaps.set(map, bytes);
  }
  return bytes;
}

function mapHeader(size: number): Uint8Array {
  if (size < 16) return Uint8Array.of(0x80 | size);
  if (size < 0x10000) return Uint8Array.of(0xde, size >> 8, size & 0xff);
  return Uint8Array.of(0xdf, (size >>> 24) & 0xff, (size >> 16) & 0xff, (size >> 8) & 0xff, size & 0xff);
}

const KEY_BYTES = new Map<string, Uint8Array>();
function key(name: string): Uint8Array {
  let bytes = KEY_BYTES.get(name);
  if (!bytes) {
    bytes = pack(name);
    KEY_BYTES.set(name, bytes);
  }
  return bytes;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export interface FullReportInput {
  seq: number;
  observedAt: number;
  /** Categories sent whole; maps reused across calls are encoded and fingerprinted only once. */
  full: Record<string, FactMap>;
}

/**
 * The frame of `report {seq, observedAt, full, fingerprints}` where `fingerprints[category]` is
 * `fingerprintMap()` of each full category. Not validated by zod (that is the point): the tests
 * prove it decodes to the same message that `encodeMessage` validates.
 */
export function encodeFullReport({ seq, observedAt, full }: FullReportInput): Uint8Array {
  const categories = Object.keys(full);
  const fingerprints: Record<string, string> = {};
  const parts: Uint8Array[] = [
    mapHeader(5),
    key('type'),
    key('report'),
    key('seq'),
    pack(seq),
    key('observedAt'),
    pack(observedAt),
    key('full'),
    mapHeader(categories.length),
  ];
  for (const category of categories) {
    const map = full[category] as FactMap;
    parts.push(key(category), encodedMap(map));
    fingerprints[category] = cachedFingerprint(map);
  }
  parts.push(key('fingerprints'), pack(fingerprints));
  return concat(parts);
}

/** The message `encodeFullReport` encodes, for tests and for callers that want zod validation. */
export function fullReportMessage({ seq, observedAt, full }: FullReportInput): ReportMessage {
  const fingerprints: Record<string, string> = {};
  for (const [category, map] of Object.entries(full)) fingerprints[category] = cachedFingerprint(map);
  return { type: 'report', seq, observedAt, full, fingerprints };
}

let heartbeat: Uint8Array | undefined;
/** The heartbeat frame: identical for every agent, encoded once. */
export function heartbeatFrame(): Uint8Array {
  heartbeat ??= encodeMessage({ type: 'heartbeat' });
  return heartbeat;
}
