/**
 * The redis probe: RESP by hand over one socket (resp.ts), no client library. `AUTH [username]
 * password` when a password is configured, then `INFO server` (redis_version, redis_mode) and
 * `INFO memory` (maxmemory, maxmemory_policy), sent together; `CONFIG GET` only when INFO lacks a
 * setting (CONFIG is often renamed away on managed servers). A server that refuses the password
 * is reachable (it answered) but has no version: the error says authentication failed.
 */
import type { Socket } from 'node:net';
import type { RedisServiceConfig } from '@envparity/shared';
import { type FactMap, formatPath } from '@envparity/shared';
import { decodeReply, encodeCommand, parseInfo, RespErrorReply, type RespReply } from './resp.js';
import { connectSocket } from './tcp-connect.js';
import { SocketReader } from './tcp-reader.js';
import type { ServiceObservation, ServiceProbe } from './types.js';

/** INFO field -> CONFIG parameter, for the reported settings. */
const SETTINGS = [
  { info: 'maxmemory_policy', config: 'maxmemory-policy', numeric: false },
  { info: 'maxmemory', config: 'maxmemory', numeric: true },
] as const;

/** Why the server did not let us in, in words (the reply never holds the password; we scrub anyway). */
function authenticationError(spec: RedisServiceConfig, authReply: RespReply | undefined, password?: string): string {
  if (password === undefined)
    return 'authentication required: the server wants a password (passwordEnv or passwordFile)';
  const user = spec.username ?? 'default';
  const detail = authReply instanceof RespErrorReply ? `: ${authReply.message}` : '';
  return `authentication failed for user ${user}${detail}`;
}

function describeReply(reply: RespReply): string {
  return reply instanceof RespErrorReply ? reply.message : `unexpected reply ${JSON.stringify(reply)}`;
}

/** One command at a time (or several written at once) over the probe's socket. */
class RedisConversation {
  /** Set once a well-formed reply came back: the server speaks RESP. */
  answered = false;
  readonly #reader: SocketReader;

  constructor(
    private readonly socket: Socket,
    spec: RedisServiceConfig,
  ) {
    this.#reader = new SocketReader(socket, spec.host, spec.port);
  }

  send(...commands: string[][]): void {
    this.socket.write(Buffer.concat(commands.map((args) => encodeCommand(args))));
  }

  async reply(): Promise<RespReply> {
    const reply = await this.#reader.read(decodeReply);
    this.answered = true;
    return reply;
  }
}

async function readSettings(conversation: RedisConversation, memory: Map<string, string>, facts: FactMap) {
  const errors: string[] = [];
  for (const setting of SETTINGS) {
    let value = memory.get(setting.info);
    if (value === undefined) {
      conversation.send(['CONFIG', 'GET', setting.config]);
      const reply = await conversation.reply();
      if (Array.isArray(reply) && typeof reply[1] === 'string') value = reply[1];
      else {
        errors.push(`${setting.config} unreadable (not in INFO memory; CONFIG GET: ${describeReply(reply)})`);
        continue;
      }
    }
    facts[formatPath(['settings', setting.config])] = setting.numeric ? Number(value) : value;
  }
  return errors;
}

async function converse(
  conversation: RedisConversation,
  spec: RedisServiceConfig,
  password: string | undefined,
): Promise<ServiceObservation> {
  const auth = password === undefined ? [] : [['AUTH', ...(spec.username ? [spec.username] : []), password]];
  conversation.send(...auth, ['INFO', 'server'], ['INFO', 'memory']);
  const authReply = auth.length ? await conversation.reply() : undefined;
  const server = await conversation.reply();
  if (server instanceof RespErrorReply && server.kind === 'NOAUTH') {
    return { reachable: true, facts: {}, error: authenticationError(spec, authReply, password) };
  }
  // Read no further: a refusing server (protected mode's DENIED) may hang up after saying why.
  if (typeof server !== 'string') return { reachable: true, facts: {}, error: `INFO server: ${describeReply(server)}` };
  const memory = await conversation.reply();
  const errors: string[] = [];
  // AUTH refused but the server lets everyone in (no password set): the facts are still read.
  if (authReply instanceof RespErrorReply) errors.push(`AUTH refused: ${authReply.message}`);
  const info = parseInfo(server);
  const facts: FactMap = {};
  const mode = info.get('redis_mode');
  if (mode !== undefined) facts.mode = mode;
  if (typeof memory === 'string') errors.push(...(await readSettings(conversation, parseInfo(memory), facts)));
  else errors.push(`INFO memory: ${describeReply(memory)}`);
  const version = info.get('redis_version');
  return {
    reachable: true,
    ...(version === undefined ? {} : { version }),
    facts,
    ...(errors.length ? { error: errors.join('; ') } : {}),
  };
}

export const probeRedis: ServiceProbe<RedisServiceConfig> = async (spec, { signal, password }) => {
  const scrub = (text: string) => (password ? text.split(password).join('[password]') : text);
  let conversation: RedisConversation | undefined;
  try {
    const socket = await connectSocket(spec.host, spec.port, signal);
    try {
      conversation = new RedisConversation(socket, spec);
      const observation = await converse(conversation, spec, password);
      return observation.error === undefined ? observation : { ...observation, error: scrub(observation.error) };
    } finally {
      socket.destroy();
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { reachable: conversation?.answered ?? false, facts: {}, error: scrub(reason) };
  }
};
