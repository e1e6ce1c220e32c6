/**
 * The agent channel: binary WebSocket frames, msgpack-encoded, one zod discriminated union for
 * every message. Decoding is pure: bytes in, a typed message or a ProtocolError out.
 */
import { Packr } from 'msgpackr';
import { z } from 'zod';
import { formatIssues } from './config.js';
import { declaredClassRuleSchema, MAX_DECLARED_CLASSES } from './declared-classes.js';
import { EnvparityError } from './errors.js';
import {
  CATEGORIES,
  collectorReportSchema,
  environmentNameSchema,
  type FactMap,
  type FactValue,
  factValueSchema,
} from './facts.js';

export * from './declared-classes.js';

export const PROTOCOL_VERSION = 1;
/** Largest frame either side accepts; a full report of a host with thousands of packages is ~200 KB. */
export const MAX_FRAME_BYTES = 4 * 1024 * 1024;

/**
 * Bounds of the protocol (docs/PROTOCOL.md "Bounds", docs/SECURITY.md). Both sides enforce them:
 * the decoder rejects a frame past any of them with a ProtocolError (close 4002), the agent keeps
 * its own output inside them.
 */
/** Highest report seq: 2^53-1 minus headroom, so `seq + 1` is always exact and encodable. */
export const MAX_SEQ = 2 ** 52;
/**
 * Highest seq the agent adopts from outside (state.json, `welcome.lastSeq`): a value above it is
 * treated as corrupt or hostile and renumbered, so the agent keeps 2^51 seqs of room under MAX_SEQ.
 */
export const MAX_ADOPTED_SEQ = 2 ** 51;
/** Tokens, enroll secrets and fleet keys, in every message. */
export const MAX_TOKEN_LENGTH = 512;
/** Largest epoch-ms timestamp: the end of the ECMAScript Date range (year 275760). */
export const MAX_EPOCH_MS = 8.64e15;
/** Default tolerated difference between an agent's clock and the aggregator's (1 day). */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 24 * 60 * 60 * 1000;
/** Largest value of one fact, in UTF-8 bytes (an array: the sum of its strings); longer ones are hashed by the agent. */
export const MAX_VALUE_BYTES = 64 * 1024;
/** Largest fact path, in characters. */
export const MAX_PATH_LENGTH = 4096;
/** Paths one host may hold (and one report may carry), over every category. */
export const MAX_HOST_PATHS = 200_000;
/** Categories besides the fact model's own that collectors may report. */
export const EXTRA_CATEGORIES = ['service', 'process', 'security'] as const;
/** Every category name a report may carry. */
export const PROTOCOL_CATEGORIES: readonly string[] = [...CATEGORIES, ...EXTRA_CATEGORIES];

/** UTF-8 size of a fact value (strings and arrays of strings; numbers, booleans and null count as 8). */
export function factValueBytes(value: FactValue): number {
  if (typeof value === 'string') return utf8Length(value);
  if (Array.isArray(value)) {
    let total = 0;
    for (const item of value) total += typeof item === 'string' ? utf8Length(item) : 8;
    return total;
  }
  return 8;
}

function utf8Length(text: string): number {
  // Cheap bounds first: every UTF-16 unit is 1 to 3 UTF-8 bytes.
  if (text.length * 3 <= MAX_VALUE_BYTES) return text.length;
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * An observedAt (or other agent-supplied time) as the aggregator stores it: clamped into
 * `now ± maxSkewMs`. `skewMs` is the agent's clock minus the server's when outside the window.
 */
export function clampTimestamp(
  value: number,
  now: number,
  maxSkewMs = DEFAULT_MAX_CLOCK_SKEW_MS,
): { value: number; skewMs?: number } {
  if (!Number.isFinite(value)) return { value: now, skewMs: Number.NaN };
  if (value > now + maxSkewMs) return { value: now + maxSkewMs, skewMs: value - now };
  if (value < now - maxSkewMs) return { value: now - maxSkewMs, skewMs: value - now };
  return { value };
}

/**
 * A report as the aggregator stores it, time-wise: `observedAt` clamped into `now ± maxSkewMs`,
 * and `meta.clockSkewMs` (agent clock minus server clock) set when it had to be clamped, cleared
 * when it did not (an agent cannot set it itself). `previousMeta` is the host's stored meta: a
 * report without meta keeps it, with the flag updated. The same object when nothing changes.
 */
export function boundReportTime<R extends { observedAt: number; meta?: ReportMeta | undefined }>(
  report: R,
  now: number,
  maxSkewMs = DEFAULT_MAX_CLOCK_SKEW_MS,
  previousMeta?: unknown,
): R {
  const clamped = clampTimestamp(report.observedAt, now, maxSkewMs);
  const base: ReportMeta | undefined =
    report.meta ??
    (previousMeta !== null && typeof previousMeta === 'object' ? (previousMeta as ReportMeta) : undefined);
  if (clamped.skewMs !== undefined) {
    const skewMs = Number.isFinite(clamped.skewMs) ? Math.round(clamped.skewMs) : MAX_EPOCH_MS;
    return { ...report, observedAt: clamped.value, meta: { ...(base ?? {}), clockSkewMs: skewMs } };
  }
  if (base?.clockSkewMs === undefined) return report;
  const { clockSkewMs: _cleared, ...rest } = base;
  return { ...report, meta: rest };
}

/**
 * WebSocket close codes the aggregator uses (4000-4999 is the application range), documented in
 * docs/PROTOCOL.md. `1009` (message too big) is sent by `ws` itself for frames over the limit.
 */
export const CLOSE_CODES = {
  normal: 1000,
  goingAway: 1001,
  tooBig: 1009,
  internalError: 1011,
  malformed: 4000,
  unknownType: 4001,
  schemaViolation: 4002,
  oversize: 4003,
  unexpectedMessage: 4004,
  unauthorized: 4010,
  enrollRefused: 4011,
  hostMismatch: 4012,
  /** The host was retired (`DELETE /api/v1/hosts/:id`): stop reconnecting, a retry cannot succeed. */
  hostRetired: 4013,
  /**
   * Approval mode (`enrollment.mode: approve`): the host is enrolled but an admin has not approved it
   * yet (`POST /api/v1/hosts/:id/approve`). The reason says `retry after N s`.
   */
  pendingApproval: 4014,
  /** An admin rotated the host's token: reconnect now, the next `welcome` carries the new token. */
  tokenRotation: 4015,
  outOfOrder: 4020,
  rateLimited: 4029,
  replaced: 4040,
} as const;
export type CloseCodeName = keyof typeof CLOSE_CODES;

export const PROTOCOL_ERROR_CODES = {
  malformed: 'MALFORMED',
  unknownType: 'UNKNOWN_TYPE',
  schemaViolation: 'SCHEMA_VIOLATION',
  oversize: 'OVERSIZE',
} as const;
export type ProtocolErrorCode = (typeof PROTOCOL_ERROR_CODES)[keyof typeof PROTOCOL_ERROR_CODES];

const CLOSE_CODE_BY_ERROR: Record<ProtocolErrorCode, number> = {
  MALFORMED: CLOSE_CODES.malformed,
  UNKNOWN_TYPE: CLOSE_CODES.unknownType,
  SCHEMA_VIOLATION: CLOSE_CODES.schemaViolation,
  OVERSIZE: CLOSE_CODES.oversize,
};

/** A frame that is not a valid message. `closeCode` is what the receiver closes the socket with. */
export class ProtocolError extends EnvparityError {
  declare readonly code: ProtocolErrorCode;
  readonly closeCode: number;
  constructor(code: ProtocolErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.closeCode = CLOSE_CODE_BY_ERROR[code];
  }
}

const hostId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.\-:]+$/, 'host ids are letters, digits and _ . - :');
const environment = environmentNameSchema.min(1).max(64);
const labels = z.record(z.string().max(128), z.string().max(256));
/**
 * A record keyed by category (report `full`, `delta`, `fingerprints`): only PROTOCOL_CATEGORIES.
 * Checked in a refinement, so the error names the category (a record key error would not).
 */
function categoryRecord<T extends z.ZodType>(value: T) {
  return z.record(z.string().max(32), value).superRefine((record, ctx) => {
    for (const name of Object.keys(record)) {
      if (!PROTOCOL_CATEGORIES.includes(name)) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `not a known category (${PROTOCOL_CATEGORIES.join(', ')})`,
        });
        return;
      }
    }
  });
}
/** A category or collector name in a request (`collect`, `resync`, `welcome.need`): unknown names mean "all". */
const categoryName = z
  .string()
  .max(64)
  .regex(/^[a-z][a-z0-9_-]*$/, 'a category name');
const categoryList = z.array(categoryName).max(64);
const fingerprint = z.string().max(80);
const seq = z.number().int().nonnegative().max(MAX_SEQ, `a seq is at most 2^52 (${MAX_SEQ})`);
/** A seq the other side reports holding: any safe integer decodes, so a receiver can repair a bad one. */
const reportedSeq = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
/** Milliseconds since the epoch: smaller on the wire than ISO text; finite and inside the Date range. */
const epochMs = z.number().int().nonnegative().max(MAX_EPOCH_MS, 'a time inside the Date range (at most 8.64e15 ms)');
const token = z.string().min(1).max(MAX_TOKEN_LENGTH);
const factPathKey = z.string().min(1).max(MAX_PATH_LENGTH);

/** The checks of a wire fact map, in zod: the one source of its rules and of its error messages. */
/** Exported for the test that holds isWireFactMap to it. */
export const strictWireFactMapSchema = z.record(factPathKey, factValueSchema).superRefine((facts, ctx) => {
  for (const [path, value] of Object.entries(facts)) {
    const bytes = factValueBytes(value);
    if (bytes > MAX_VALUE_BYTES) {
      ctx.addIssue({
        code: 'custom',
        path: [path.slice(0, 80)],
        message: `value is ${bytes} bytes, over the ${MAX_VALUE_BYTES}-byte limit (the agent sends such values hashed)`,
      });
      return;
    }
  }
});

function isWireScalar(value: unknown): boolean {
  return (
    typeof value === 'string' ||
    (typeof value === 'number' && Number.isFinite(value)) ||
    typeof value === 'boolean' ||
    value === null
  );
}

/**
 * Whether `value` passes strictWireFactMapSchema, without building zod's copy and issue lists: a
 * full report is thousands of such paths, and walking them through zod cost more than storing them.
 * Accepts only what the strict schema accepts, and its output is the same map (a property test
 * holds them to it); what it declines (such as an own `__proto__` key) goes to the strict schema.
 */
export function isWireFactMap(value: unknown): value is FactMap {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return false;
  if (Object.getOwnPropertySymbols(value).length > 0) return false;
  for (const path of Object.keys(value)) {
    // zod drops an own `__proto__` key from its copy: such a map takes the strict path.
    if (path.length === 0 || path.length > MAX_PATH_LENGTH || path === '__proto__') return false;
    const fact = (value as Record<string, unknown>)[path];
    if (Array.isArray(fact)) {
      for (const item of fact) if (!isWireScalar(item)) return false;
    } else if (!isWireScalar(fact)) return false;
    if (factValueBytes(fact as FactValue) > MAX_VALUE_BYTES) return false;
  }
  return true;
}

/**
 * A fact map on the wire: paths bounded in length, values bounded in size (MAX_VALUE_BYTES). Valid
 * maps take the fast check; only an invalid one goes through the strict schema, for its messages.
 */
export const wireFactMapSchema = z.unknown().transform((facts, ctx): FactMap => {
  if (isWireFactMap(facts)) return facts;
  // The strict schema's own result: its copy (zod leaves out an own `__proto__` key) or its issues.
  const strict = strictWireFactMapSchema.safeParse(facts);
  if (strict.success) return strict.data;
  for (const issue of strict.error.issues) {
    ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message, input: facts });
  }
  return z.NEVER;
}) as unknown as z.ZodType<FactMap>;

export const factDeltaSchema = z.object({ set: wireFactMapSchema, unset: z.array(factPathKey) });

function countReportPaths(report: {
  full?: Record<string, FactMap> | undefined;
  delta?: Record<string, { set: FactMap; unset: string[] }> | undefined;
}): number {
  let paths = 0;
  for (const facts of Object.values(report.full ?? {})) paths += Object.keys(facts).length;
  for (const delta of Object.values(report.delta ?? {})) paths += Object.keys(delta.set).length + delta.unset.length;
  return paths;
}

// --- agent -> aggregator -------------------------------------------------------------------

/** Who the agent says it is: sent in both `enroll` and `hello`. */
const agentIdentityFields = {
  v: z.literal(PROTOCOL_VERSION),
  hostId,
  environment: environment.optional(),
  labels: labels.default({}),
  agentVersion: z.string().max(64),
};

export const enrollMessageSchema = z.object({
  type: z.literal('enroll'),
  ...agentIdentityFields,
  enrollSecret: token,
});

export const helloMessageSchema = z.object({
  type: z.literal('hello'),
  ...agentIdentityFields,
  token,
  /** Highest sequence number the aggregator acknowledged to this agent. */
  lastAckedSeq: seq,
  /** Per-category fingerprints of the state the agent believes the aggregator holds. */
  fingerprints: categoryRecord(fingerprint).default({}),
  /**
   * Classes the agent declares for its probes (`watch.probes[].class`), one `probe.<name>.**` rule
   * each; absent from older agents, ignored by older aggregators (this object is not strict).
   */
  classes: z.array(declaredClassRuleSchema).max(MAX_DECLARED_CLASSES).optional(),
});

export const reportMessageSchema = z
  .object({
    type: z.literal('report'),
    seq: seq.min(1),
    /** When the agent observed this state (not when it was sent): kept through spooling. */
    observedAt: epochMs,
    /** Categories sent whole: they replace what the aggregator holds for them. */
    full: categoryRecord(wireFactMapSchema).optional(),
    /** Categories sent as per-path changes against the acknowledged state. */
    delta: categoryRecord(factDeltaSchema).optional(),
    /**
     * For each category this report touches: fingerprintMap() of the agent's whole category after
     * applying the report. The aggregator checks its own result and asks for a `resync` on mismatch.
     */
    fingerprints: categoryRecord(fingerprint).optional(),
    /** Collector timings and errors of the pass that produced this report. */
    meta: z
      .object({
        durationMs: z.number().nonnegative().max(MAX_EPOCH_MS).optional(),
        collectors: z.array(collectorReportSchema).max(256).optional(),
        errors: z
          .array(z.object({ collector: z.string().max(128), message: z.string().max(4096) }))
          .max(1024)
          .optional(),
        /**
         * Set by the aggregator, never by the agent: the agent's clock minus the server's (ms) when
         * the report's observedAt was outside the tolerated skew and was clamped.
         */
        clockSkewMs: z.number().optional(),
      })
      .optional(),
  })
  .refine((m) => m.full !== undefined || m.delta !== undefined, 'a report carries `full` or `delta` categories')
  .refine((m) => countReportPaths(m) <= MAX_HOST_PATHS, {
    message: `a report carries at most ${MAX_HOST_PATHS} paths`,
  });

export const heartbeatMessageSchema = z.object({ type: z.literal('heartbeat') });

// --- aggregator -> agent -------------------------------------------------------------------

export const enrolledMessageSchema = z
  .object({
    type: z.literal('enrolled'),
    hostId,
    token,
    /**
     * Key for HMAC-SHA256 of secret values, shared by the whole fleet so equal secrets compare equal.
     * Absent while the host awaits approval: the first `welcome` after approval carries it.
     */
    fleetKey: token.optional(),
    /** Approval mode: the token is held until an admin approves the host; `hello` gets 4014 until then. */
    pending: z.literal(true).optional(),
  })
  .refine((m) => m.pending === true || m.fleetKey !== undefined, 'an `enrolled` carries `fleetKey` unless `pending`');

export const welcomeMessageSchema = z.object({
  type: z.literal('welcome'),
  /** Highest sequence number already stored for this host: the agent drops spooled reports up to it. */
  lastSeq: reportedSeq,
  /** Categories the aggregator needs in full (its state differs from the agent's fingerprints). */
  need: categoryList,
  /** Heartbeat interval the aggregator expects, in seconds (the agent clamps it to 5 s .. 1 h). */
  heartbeatSeconds: z.number().positive().finite().optional(),
  /** A new agent token (an admin rotated it): the agent saves it and uses it from its next hello. */
  token: token.optional(),
  /** The fleet key: first delivered here after an approval, and whenever the agent's copy may be stale. */
  fleetKey: token.optional(),
});

export const ackMessageSchema = z.object({ type: z.literal('ack'), seq });
export const collectMessageSchema = z.object({ type: z.literal('collect'), categories: categoryList.optional() });
export const resyncMessageSchema = z.object({
  type: z.literal('resync'),
  reason: z.string().max(1024),
  categories: categoryList.optional(),
});
export const errorMessageSchema = z.object({
  type: z.literal('error'),
  code: z.string().max(64),
  message: z.string().max(4096),
});

export const agentMessageSchema = z.discriminatedUnion('type', [
  enrollMessageSchema,
  helloMessageSchema,
  reportMessageSchema,
  heartbeatMessageSchema,
]);
export const serverMessageSchema = z.discriminatedUnion('type', [
  enrolledMessageSchema,
  welcomeMessageSchema,
  ackMessageSchema,
  collectMessageSchema,
  resyncMessageSchema,
  errorMessageSchema,
]);
/** Every message of the protocol, in either direction. */
export const protocolMessageSchema = z.discriminatedUnion('type', [
  enrollMessageSchema,
  helloMessageSchema,
  reportMessageSchema,
  heartbeatMessageSchema,
  enrolledMessageSchema,
  welcomeMessageSchema,
  ackMessageSchema,
  collectMessageSchema,
  resyncMessageSchema,
  errorMessageSchema,
]);

export type EnrollMessage = z.infer<typeof enrollMessageSchema>;
export type HelloMessage = z.infer<typeof helloMessageSchema>;
export type ReportMessage = z.infer<typeof reportMessageSchema>;
export type ReportMeta = NonNullable<ReportMessage['meta']>;
export type HeartbeatMessage = z.infer<typeof heartbeatMessageSchema>;
export type EnrolledMessage = z.infer<typeof enrolledMessageSchema>;
export type WelcomeMessage = z.infer<typeof welcomeMessageSchema>;
export type AckMessage = z.infer<typeof ackMessageSchema>;
export type CollectMessage = z.infer<typeof collectMessageSchema>;
export type ResyncMessage = z.infer<typeof resyncMessageSchema>;
export type ErrorMessage = z.infer<typeof errorMessageSchema>;
export type AgentMessage = z.infer<typeof agentMessageSchema>;
export type ServerMessage = z.infer<typeof serverMessageSchema>;
export type ProtocolMessage = z.infer<typeof protocolMessageSchema>;
export type MessageType = ProtocolMessage['type'];

export const AGENT_MESSAGE_TYPES = agentMessageSchema.options.map((o) => o.shape.type.value);
export const SERVER_MESSAGE_TYPES = serverMessageSchema.options.map((o) => o.shape.type.value);

// Plain maps, no record structures: every frame decodes on its own, with no shared state.
// variableMapSize: a category of more than 65,535 paths (a big lockfile) needs a map32 header.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, variableMapSize: true });

/** Encodes a message (validated first, so a bug never puts a bad frame on the wire). */
export function encodeMessage(message: ProtocolMessage, maxBytes = MAX_FRAME_BYTES): Uint8Array {
  const parsed = protocolMessageSchema.safeParse(message);
  if (!parsed.success) {
    throw new ProtocolError('SCHEMA_VIOLATION', `cannot encode ${message.type}: ${formatIssues(parsed.error)}`);
  }
  const bytes = packr.pack(message);
  if (bytes.length > maxBytes) {
    throw new ProtocolError(
      'OVERSIZE',
      `${message.type} message is ${bytes.length} bytes, over the ${maxBytes}-byte limit`,
    );
  }
  return bytes;
}

type Schema<T> = { safeParse(data: unknown): z.ZodSafeParseResult<T> };

function decodeWith<T>(bytes: Uint8Array, schema: Schema<T>, knownTypes: readonly string[], maxBytes: number): T {
  if (bytes.length > maxBytes) {
    throw new ProtocolError('OVERSIZE', `frame is ${bytes.length} bytes, over the ${maxBytes}-byte limit`);
  }
  let value: unknown;
  try {
    value = packr.unpack(bytes);
  } catch (cause) {
    throw new ProtocolError('MALFORMED', `frame is not valid msgpack: ${(cause as Error).message}`, { cause });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ProtocolError('MALFORMED', 'frame is not a msgpack map');
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') throw new ProtocolError('MALFORMED', 'frame has no string `type` field');
  if (!knownTypes.includes(type)) {
    throw new ProtocolError('UNKNOWN_TYPE', `unknown message type ${JSON.stringify(type.slice(0, 40))}`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new ProtocolError('SCHEMA_VIOLATION', `${type}: ${formatIssues(parsed.error)}`.slice(0, 240));
  }
  return parsed.data;
}

/** Decodes a frame sent by an agent. Throws ProtocolError. */
export function decodeAgentMessage(bytes: Uint8Array, maxBytes = MAX_FRAME_BYTES): AgentMessage {
  return decodeWith(bytes, agentMessageSchema, AGENT_MESSAGE_TYPES, maxBytes);
}

/** Decodes a frame sent by the aggregator. Throws ProtocolError. */
export function decodeServerMessage(bytes: Uint8Array, maxBytes = MAX_FRAME_BYTES): ServerMessage {
  return decodeWith(bytes, serverMessageSchema, SERVER_MESSAGE_TYPES, maxBytes);
}

/** Decodes a frame of either direction. Throws ProtocolError. */
export function decodeMessage(bytes: Uint8Array, maxBytes = MAX_FRAME_BYTES): ProtocolMessage {
  return decodeWith(bytes, protocolMessageSchema, [...AGENT_MESSAGE_TYPES, ...SERVER_MESSAGE_TYPES], maxBytes);
}
