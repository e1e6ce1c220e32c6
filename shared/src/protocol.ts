/**
 * The agent channel: binary WebSocket frames, msgpack-encoded, one zod discriminated union for
 * every message. Decoding is pure: bytes in, a typed message or a ProtocolError out.
 */
import { Packr } from 'msgpackr';
import { z } from 'zod';
import { formatIssues } from './config.js';
import { EnvparityError } from './errors.js';
import { collectorReportSchema, factMapSchema } from './facts.js';

export const PROTOCOL_VERSION = 1;
/** Largest frame either side accepts; a full report of a host with thousands of packages is ~200 KB. */
export const MAX_FRAME_BYTES = 4 * 1024 * 1024;

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
const environment = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, 'environment names are letters, digits, _ and -');
const labels = z.record(z.string().max(128), z.string().max(256));
const category = z.string().regex(/^[a-z][a-z0-9_-]*$/, 'a category name');
const fingerprint = z.string().max(80);
const seq = z.number().int().nonnegative();
/** Milliseconds since the epoch: smaller on the wire than ISO text. */
const epochMs = z.number().int().nonnegative();

export const factDeltaSchema = z.object({ set: factMapSchema, unset: z.array(z.string()) });

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
  enrollSecret: z.string().min(1).max(512),
});

export const helloMessageSchema = z.object({
  type: z.literal('hello'),
  ...agentIdentityFields,
  token: z.string().min(1).max(512),
  /** Highest sequence number the aggregator acknowledged to this agent. */
  lastAckedSeq: seq,
  /** Per-category fingerprints of the state the agent believes the aggregator holds. */
  fingerprints: z.record(category, fingerprint).default({}),
});

export const reportMessageSchema = z
  .object({
    type: z.literal('report'),
    seq: seq.min(1),
    /** When the agent observed this state (not when it was sent): kept through spooling. */
    observedAt: epochMs,
    /** Categories sent whole: they replace what the aggregator holds for them. */
    full: z.record(category, factMapSchema).optional(),
    /** Categories sent as per-path changes against the acknowledged state. */
    delta: z.record(category, factDeltaSchema).optional(),
    /**
     * For each category this report touches: fingerprintMap() of the agent's whole category after
     * applying the report. The aggregator checks its own result and asks for a `resync` on mismatch.
     */
    fingerprints: z.record(category, fingerprint).optional(),
    /** Collector timings and errors of the pass that produced this report. */
    meta: z
      .object({
        durationMs: z.number().nonnegative().optional(),
        collectors: z.array(collectorReportSchema).optional(),
        errors: z.array(z.object({ collector: z.string(), message: z.string() })).optional(),
      })
      .optional(),
  })
  .refine((m) => m.full !== undefined || m.delta !== undefined, 'a report carries `full` or `delta` categories');

export const heartbeatMessageSchema = z.object({ type: z.literal('heartbeat') });

// --- aggregator -> agent -------------------------------------------------------------------

export const enrolledMessageSchema = z.object({
  type: z.literal('enrolled'),
  hostId,
  token: z.string().min(1),
  /** Key for HMAC-SHA256 of secret values, shared by the whole fleet so equal secrets compare equal. */
  fleetKey: z.string().min(1),
});

export const welcomeMessageSchema = z.object({
  type: z.literal('welcome'),
  /** Highest sequence number already stored for this host: the agent drops spooled reports up to it. */
  lastSeq: seq,
  /** Categories the aggregator needs in full (its state differs from the agent's fingerprints). */
  need: z.array(category),
  /** Heartbeat interval the aggregator expects, in seconds. */
  heartbeatSeconds: z.number().positive().optional(),
});

export const ackMessageSchema = z.object({ type: z.literal('ack'), seq });
export const collectMessageSchema = z.object({ type: z.literal('collect'), categories: z.array(category).optional() });
export const resyncMessageSchema = z.object({
  type: z.literal('resync'),
  reason: z.string(),
  categories: z.array(category).optional(),
});
export const errorMessageSchema = z.object({ type: z.literal('error'), code: z.string(), message: z.string() });

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
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false });

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
