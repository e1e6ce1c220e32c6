/**
 * The mysql probe (MySQL and MariaDB). Without a `user`: the version from the server's greeting,
 * read by hand on a socket closed right after it (no credentials, no client library). With a
 * `user`: one mysql2 login reads the version (`SELECT @@version`, the same string), the settings
 * and the tables (mysql-catalog.ts); only when that login fails is the greeting read for the
 * version. Why not always the greeting: a connection closed before authenticating counts in the
 * server's Aborted_connects and logs an "Aborted connection" warning, once per pass.
 * A server that answers with an error packet instead of a greeting ("Too many connections",
 * "Host ... is not allowed") is reachable: it spoke the protocol; the error says what it said.
 */
import type { MysqlServiceConfig } from '@envparity/shared';
import { readMysqlCatalog } from './mysql-catalog.js';
import { decodeMysqlGreeting, type MysqlGreeting, reportedMysqlVersion } from './mysql-greeting.js';
import { connectSocket, endpointLabel } from './tcp-connect.js';
import { SocketReader } from './tcp-reader.js';
import type { ServiceObservation, ServiceProbe } from './types.js';

async function readGreeting(spec: MysqlServiceConfig, signal: AbortSignal): Promise<MysqlGreeting> {
  const socket = await connectSocket(spec.host, spec.port, signal);
  try {
    return await new SocketReader(socket, spec.host, spec.port).read(decodeMysqlGreeting);
  } finally {
    socket.destroy();
  }
}

/** The greeting as an observation: the version, or why there is none. */
async function observeGreeting(spec: MysqlServiceConfig, signal: AbortSignal): Promise<ServiceObservation> {
  let greeting: MysqlGreeting;
  try {
    greeting = await readGreeting(spec, signal);
  } catch (error) {
    // Refused, closed before a greeting, or not a MySQL server: nothing answered the protocol.
    return { reachable: false, facts: {}, error: error instanceof Error ? error.message : String(error) };
  }
  if (greeting.kind === 'error') {
    const label = endpointLabel(spec.host, spec.port);
    return {
      reachable: true,
      facts: {},
      error: `${label} refused the session: ${greeting.message} (error ${greeting.errorCode})`,
    };
  }
  return { reachable: true, version: reportedMysqlVersion(greeting.serverVersion), facts: {} };
}

/** Never lets the password out in a message, whatever a server or library put in it. */
function withoutPassword(text: string, password: string | undefined): string {
  return password ? text.split(password).join('[password]') : text;
}

export const probeMysql: ServiceProbe<MysqlServiceConfig> = async (spec, { signal, timeoutMs, password }) => {
  if (spec.user === undefined) return observeGreeting(spec, signal);
  const catalog = await readMysqlCatalog({ ...spec, user: spec.user }, { password, signal, timeoutMs });
  const error = catalog.error === undefined ? {} : { error: withoutPassword(catalog.error, password) };
  if (catalog.version !== undefined)
    return { reachable: true, version: catalog.version, facts: catalog.facts, ...error };
  const greeting = await observeGreeting(spec, signal);
  // Refused or not MySQL: the greeting's reason says it plainly; the login's would repeat it.
  if (!greeting.version) return greeting;
  return { ...greeting, facts: catalog.facts, ...error };
};
