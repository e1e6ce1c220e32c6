/**
 * RESP2, the Redis wire protocol, as far as a probe needs it: commands out as arrays of bulk
 * strings, replies in as simple strings, errors, integers, bulk strings and arrays. Pure: bytes in,
 * a reply (or "not complete yet") out, a RespProtocolError for bytes that are not RESP.
 * Spec: https://redis.io/docs/latest/develop/reference/protocol-spec/
 */
import type { MessageDecoder } from './tcp-reader.js';

export class RespProtocolError extends Error {
  override readonly name = 'RespProtocolError';
  readonly code = 'RESP_PROTOCOL';
}

/** An error reply (`-WRONGPASS ...`): a value the server sent, not a failure of the reader. */
export class RespErrorReply {
  constructor(readonly message: string) {}
  /** The first word, e.g. NOAUTH, WRONGPASS, ERR. */
  get kind(): string {
    return this.message.split(' ', 1)[0] ?? '';
  }
}

export type RespReply = string | number | null | RespErrorReply | RespReply[];

/** `*<n>\r\n` then `$<len>\r\n<bytes>\r\n` per argument. */
export function encodeCommand(args: readonly string[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = Buffer.from(arg, 'utf8');
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

type Step = { value: RespReply; end: number } | undefined;

function parseInteger(text: string): number {
  if (!/^-?\d+$/.test(text)) throw new RespProtocolError(`expected an integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

function decodeAt(buffer: Buffer, offset: number): Step {
  if (offset >= buffer.length) return undefined;
  const end = buffer.indexOf('\r\n', offset + 1);
  if (end < 0) return undefined;
  const line = buffer.toString('utf8', offset + 1, end);
  const next = end + 2;
  switch (String.fromCharCode(buffer[offset] as number)) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: new RespErrorReply(line), end: next };
    case ':':
      return { value: parseInteger(line), end: next };
    case '$': {
      const length = parseInteger(line);
      if (length < 0) return { value: null, end: next };
      if (buffer.length < next + length + 2) return undefined;
      return { value: buffer.toString('utf8', next, next + length), end: next + length + 2 };
    }
    case '*': {
      const count = parseInteger(line);
      if (count < 0) return { value: null, end: next };
      const items: RespReply[] = [];
      let at = next;
      for (let index = 0; index < count; index++) {
        const item = decodeAt(buffer, at);
        if (!item) return undefined;
        items.push(item.value);
        at = item.end;
      }
      return { value: items, end: at };
    }
    default:
      throw new RespProtocolError('the server does not speak the Redis protocol (RESP)');
  }
}

/** The first complete reply in `buffered` (a MessageDecoder for SocketReader). */
export const decodeReply: MessageDecoder<RespReply> = (buffered) => {
  const step = decodeAt(buffered, 0);
  return step && { value: step.value, length: step.end };
};

/** `INFO` text ("# Server\r\nredis_version:7.0.15\r\n...") -> field -> value. */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}
