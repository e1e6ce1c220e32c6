/**
 * The messages aggregators sharing one PostgreSQL database send each other over LISTEN/NOTIFY, on
 * one channel. Each names its sender, so an aggregator ignores its own. A payload must stay under
 * PostgreSQL's 8,000-byte limit: a batch that wrote many hosts is split into several messages.
 * Messages are hints to re-read committed rows, never the data itself: a lost one costs a
 * resynchronisation (cluster-node.ts), never a wrong answer for longer than that.
 */
import { z } from 'zod';

export const CLUSTER_CHANNEL = 'envparity_cluster';
/** Below PostgreSQL's 8,000-byte NOTIFY payload limit, with room for the envelope. */
export const MAX_SIGNAL_BYTES = 7_000;

export const AGENT_COMMANDS = ['collect', 'retired', 'rotation', 'revoked'] as const;
export type AgentCommand = (typeof AGENT_COMMANDS)[number];

const signalSchema = z.discriminatedUnion('kind', [
  /** Re-read these hosts: a report, an enrollment, a hello, a retirement or a token change committed. */
  z.object({ kind: z.literal('hosts'), hosts: z.array(z.string()).min(1) }),
  /** Re-read the exceptions; the environments they name are evaluated again. */
  z.object({ kind: z.literal('exceptions'), environments: z.array(z.string()) }),
  /** The leader wrote a drift pass: re-read the open events. */
  z.object({ kind: z.literal('drift') }),
  /** Re-read pending enrollments and token rotations. */
  z.object({ kind: z.literal('admission') }),
  /** For the aggregator the host's agent is connected to: act on its socket. */
  z.object({
    kind: z.literal('agent'),
    command: z.enum(AGENT_COMMANDS),
    hostId: z.string(),
    categories: z.array(z.string()).optional(),
  }),
]);

export type ClusterSignal = z.infer<typeof signalSchema>;

const envelopeSchema = z.object({ from: z.string(), signal: signalSchema });
export type ClusterEnvelope = z.infer<typeof envelopeSchema>;

/** One or more NOTIFY payloads for a signal (a long host list is split). */
export function encodeSignal(from: string, signal: ClusterSignal): string[] {
  if (signal.kind !== 'hosts') return [JSON.stringify({ from, signal })];
  const payloads: string[] = [];
  let chunk: string[] = [];
  let bytes = 0;
  const push = () => {
    if (chunk.length > 0) payloads.push(JSON.stringify({ from, signal: { kind: 'hosts', hosts: chunk } }));
    chunk = [];
    bytes = 0;
  };
  for (const hostId of signal.hosts) {
    const size = Buffer.byteLength(hostId) + 3;
    if (bytes + size > MAX_SIGNAL_BYTES) push();
    chunk.push(hostId);
    bytes += size;
  }
  push();
  return payloads;
}

/** A received payload, or undefined when it is not one of ours (another envparity version, a stray NOTIFY). */
export function decodeSignal(payload: string | undefined): ClusterEnvelope | undefined {
  if (!payload) return undefined;
  try {
    const parsed = envelopeSchema.safeParse(JSON.parse(payload));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
