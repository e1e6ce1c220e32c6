/**
 * The first packet a MySQL or MariaDB server sends on connect, decoded by hand so the version is
 * read without credentials and without loading a client library: a protocol-10 handshake
 * (server version string, connection id) or an error packet (e.g. "Host ... is not allowed to
 * connect", "Too many connections"). Pure: bytes in, a greeting or a MysqlProtocolError out.
 * Packet layout: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_handshake_v10.html
 */
import type { MessageDecoder } from './tcp-reader.js';

export class MysqlProtocolError extends Error {
  override readonly name = 'MysqlProtocolError';
  readonly code = 'MYSQL_PROTOCOL';
}

export type MysqlGreeting =
  | { kind: 'handshake'; protocolVersion: number; serverVersion: string; connectionId: number }
  | { kind: 'error'; errorCode: number; message: string };

/** A greeting is a few dozen bytes; a "length" above this means the peer does not speak MySQL. */
const MAX_GREETING_BYTES = 64 * 1024;
const HEADER_BYTES = 4;
const HANDSHAKE_V10 = 0x0a;
const ERROR_PACKET = 0xff;

/**
 * MariaDB before 11 prefixes its greeting's version with "5.5.5-" so that MySQL 5.x replicas
 * accept it; `SELECT @@version` does not show that prefix, nor do we.
 */
const REPLICATION_PREFIX = /^5\.5\.5-(?=\d+\.\d+.*MariaDB)/;

/** Decodes the first packet once all of it has arrived (a MessageDecoder for SocketReader). */
export const decodeMysqlGreeting: MessageDecoder<MysqlGreeting> = (buffered) => {
  if (buffered.length < HEADER_BYTES) return undefined;
  const payloadLength = buffered.readUIntLE(0, 3);
  if (payloadLength === 0 || payloadLength > MAX_GREETING_BYTES) {
    throw new MysqlProtocolError('the server does not speak the MySQL protocol (no handshake packet)');
  }
  if (buffered.length < HEADER_BYTES + payloadLength) return undefined;
  const payload = buffered.subarray(HEADER_BYTES, HEADER_BYTES + payloadLength);
  return { value: parseGreetingPayload(payload), length: HEADER_BYTES + payloadLength };
};

export function parseGreetingPayload(payload: Buffer): MysqlGreeting {
  const first = payload[0];
  if (first === ERROR_PACKET) {
    if (payload.length < 3) throw new MysqlProtocolError('truncated error packet');
    const errorCode = payload.readUInt16LE(1);
    let message = payload.subarray(3).toString('utf8');
    // With CLIENT_PROTOCOL_41 an error carries "#" and a 5-character SQL state before the text.
    if (message.startsWith('#')) message = message.slice(6);
    return { kind: 'error', errorCode, message };
  }
  if (first !== HANDSHAKE_V10) {
    throw new MysqlProtocolError(`unsupported handshake protocol version ${first} (expected 10)`);
  }
  const versionEnd = payload.indexOf(0, 1);
  if (versionEnd < 0 || versionEnd + 5 > payload.length) {
    throw new MysqlProtocolError('truncated handshake packet (no server version)');
  }
  return {
    kind: 'handshake',
    protocolVersion: HANDSHAKE_V10,
    serverVersion: payload.subarray(1, versionEnd).toString('utf8'),
    connectionId: payload.readUInt32LE(versionEnd + 1),
  };
}

/** The version as the server itself reports it (`SELECT @@version`). */
export function reportedMysqlVersion(serverVersion: string): string {
  return serverVersion.replace(REPLICATION_PREFIX, '');
}
