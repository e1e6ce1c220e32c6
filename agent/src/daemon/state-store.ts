/**
 * What the daemon keeps across restarts besides the spool: `state.json` (sequence counters) and
 * `acked.msgpack` (the fact map the aggregator acknowledged, stored as a `full` report whose seq
 * is the acknowledged seq, so it reuses the validated wire codec). Both are written atomically.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  applyReport,
  categoryOf,
  decodeAgentMessage,
  encodeMessage,
  type FactMap,
  groupByCategory,
  ProtocolError,
} from '@envparity/shared';
import { z } from 'zod';
import { writeFileAtomic } from './write-atomic.js';

export const DAEMON_STATE_FILES = {
  /** `{lastAckedSeq, nextSeq, synced}`. */
  state: 'state.json',
  /** The acknowledged fact map. */
  acked: 'acked.msgpack',
  /** One file per unacknowledged report. */
  spool: 'spool',
  /** `{hostId, environment?, labels}` the daemon runs as: `verify` and `baseline` report under it. */
  identity: 'identity.json',
} as const;

/** No practical limit for the local file: the acknowledged state of a big host can pass the frame limit. */
const LOCAL_FILE_MAX_BYTES = 1024 * 1024 * 1024;

export interface AgentState {
  /** Highest seq the aggregator acknowledged (0: none yet). */
  lastAckedSeq: number;
  /** Seq of the next report: persisted before a report is sent, never reused. */
  nextSeq: number;
  /**
   * True once a `welcome` was received with the current token: only then is the aggregator's last
   * stored seq known, so only then are reports numbered (a re-enrolled host may already have seqs).
   */
  synced: boolean;
}

export const INITIAL_AGENT_STATE: AgentState = { lastAckedSeq: 0, nextSeq: 1, synced: false };

const agentStateSchema = z.object({
  lastAckedSeq: z.number().int().nonnegative(),
  nextSeq: z.number().int().positive(),
  synced: z.boolean().default(false),
});

export class StateFileError extends Error {
  readonly code = 'STATE_FILE_INVALID';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StateFileError';
  }
}

async function readOptional(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Reads state.json; a missing file is the initial state, a corrupt one throws StateFileError. */
export async function loadAgentState(stateDir: string): Promise<AgentState> {
  const path = join(stateDir, DAEMON_STATE_FILES.state);
  const bytes = await readOptional(path);
  if (!bytes) return { ...INITIAL_AGENT_STATE };
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (cause) {
    throw new StateFileError(`${path}: not valid JSON`, { cause });
  }
  const result = agentStateSchema.safeParse(parsed);
  if (!result.success) throw new StateFileError(`${path}: ${result.error.issues[0]?.message ?? 'invalid'}`);
  return result.data;
}

export async function saveAgentState(stateDir: string, state: AgentState, fsync = true): Promise<void> {
  const text = `${JSON.stringify({ lastAckedSeq: state.lastAckedSeq, nextSeq: state.nextSeq, synced: state.synced })}\n`;
  await writeFileAtomic(join(stateDir, DAEMON_STATE_FILES.state), text, { fsync });
}

export interface AckedFacts {
  seq: number;
  facts: FactMap;
}

/** Reads acked.msgpack; undefined when absent, StateFileError when it does not decode. */
export async function loadAckedFacts(stateDir: string): Promise<AckedFacts | undefined> {
  const path = join(stateDir, DAEMON_STATE_FILES.acked);
  const bytes = await readOptional(path);
  if (!bytes) return undefined;
  try {
    const message = decodeAgentMessage(new Uint8Array(bytes), LOCAL_FILE_MAX_BYTES);
    if (message.type !== 'report') throw new StateFileError(`${path}: not a report`);
    return { seq: message.seq, facts: applyReport({}, message) };
  } catch (cause) {
    if (cause instanceof StateFileError) throw cause;
    const detail = cause instanceof ProtocolError ? cause.message : String(cause);
    throw new StateFileError(`${path}: ${detail}`, { cause });
  }
}

/** Writes acked.msgpack; with seq 0 (nothing acknowledged) there is nothing to write. */
export async function saveAckedFacts(stateDir: string, { seq, facts }: AckedFacts, fsync = true): Promise<void> {
  if (seq < 1) return;
  const full = Object.fromEntries(groupByCategory(facts, categoryOf));
  const bytes = encodeMessage({ type: 'report', seq, observedAt: Date.now(), full }, LOCAL_FILE_MAX_BYTES);
  await writeFileAtomic(join(stateDir, DAEMON_STATE_FILES.acked), bytes, { fsync });
}

/** Who the daemon reports as; recorded at every start so commands run beside it use the same names. */
export interface AgentIdentity {
  hostId: string;
  environment?: string;
  labels: Record<string, string>;
}

const agentIdentitySchema = z.object({
  hostId: z.string().min(1),
  environment: z.string().min(1).optional(),
  labels: z.record(z.string(), z.string()).default({}),
});

/** Writes identity.json (atomically, 0600 like every state file). */
export async function saveAgentIdentity(stateDir: string, identity: AgentIdentity, fsync = true): Promise<void> {
  const record: AgentIdentity = {
    hostId: identity.hostId,
    ...(identity.environment ? { environment: identity.environment } : {}),
    labels: identity.labels,
  };
  await writeFileAtomic(join(stateDir, DAEMON_STATE_FILES.identity), `${JSON.stringify(record)}\n`, { fsync });
}

/** Reads identity.json; undefined when absent (no daemon ran here yet), StateFileError when corrupt. */
export async function loadAgentIdentity(stateDir: string): Promise<AgentIdentity | undefined> {
  const path = join(stateDir, DAEMON_STATE_FILES.identity);
  let bytes: Buffer | undefined;
  try {
    bytes = await readOptional(path);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw cause;
  }
  if (!bytes) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (cause) {
    throw new StateFileError(`${path}: not valid JSON`, { cause });
  }
  const result = agentIdentitySchema.safeParse(parsed);
  if (!result.success) throw new StateFileError(`${path}: ${result.error.issues[0]?.message ?? 'invalid'}`);
  const { hostId, environment, labels } = result.data;
  return { hostId, ...(environment ? { environment } : {}), labels };
}
