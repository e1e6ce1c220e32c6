/**
 * The mysql probe against a real, throwaway MariaDB (test/helpers/mariadb-server.ts): the greeting's
 * version and the logged-in settings and tables are compared with what the server itself says
 * through the `mariadb` client; a refused port, a silent server, a non-MySQL peer and a wrong
 * password each end in a clear error, never a throw, never the password.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { type MysqlServiceConfig, serviceSchema } from '@envparity/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type MariadbServer, mariadbSupport, startMariadb } from '../../../../test/helpers/mariadb-server.js';
import { waitFor } from '../../../../test/helpers/wait-for.js';
import { decodeMysqlGreeting, parseGreetingPayload, reportedMysqlVersion } from './mysql-greeting.js';
import { observeService } from './observe.js';

const PASSWORD = 'canary-mysql-Pw-4c1d9e';
const PASSWORD_ENV = 'ENVPARITY_TEST_MYSQL_PASSWORD';

function mysqlSpec(fields: Partial<MysqlServiceConfig> & { port: number }): MysqlServiceConfig {
  return serviceSchema.parse({ name: 'db', type: 'mysql', host: '127.0.0.1', ...fields }) as MysqlServiceConfig;
}

/** A framed packet: 3-byte length, sequence 0, payload. */
function packet(payload: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUIntLE(payload.length, 0, 3);
  return Buffer.concat([header, payload]);
}

function handshakePayload(version: string, connectionId: number): Buffer {
  const id = Buffer.alloc(4);
  id.writeUInt32LE(connectionId);
  // protocol 10, version, NUL, connection id, then salt and capabilities (not read).
  return Buffer.concat([Buffer.from([0x0a]), Buffer.from(version), Buffer.from([0]), id, Buffer.alloc(24, 1)]);
}

/** A TCP server that accepts and then says `greeting` (or nothing); counts the sockets the probe closed. */
async function startFakeServer(greeting?: Buffer): Promise<{ port: number; open: () => number; server: Server }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    if (greeting) socket.write(greeting);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { port: typeof address === 'object' && address ? address.port : 0, open: () => sockets.size, server };
}

describe('mysql greeting decoder', () => {
  it('reads the version and connection id of a protocol-10 handshake', () => {
    const bytes = packet(handshakePayload('8.0.36', 42));
    expect(decodeMysqlGreeting(bytes)).toEqual({
      value: { kind: 'handshake', protocolVersion: 10, serverVersion: '8.0.36', connectionId: 42 },
      length: bytes.length,
    });
  });

  it('waits for the whole packet', () => {
    const bytes = packet(handshakePayload('8.0.36', 1));
    expect(decodeMysqlGreeting(bytes.subarray(0, 3))).toBeUndefined();
    expect(decodeMysqlGreeting(bytes.subarray(0, bytes.length - 1))).toBeUndefined();
  });

  it('reads an error packet, with or without an SQL state', () => {
    const plain = Buffer.concat([Buffer.from([0xff, 0x10, 0x04]), Buffer.from('Too many connections')]);
    expect(parseGreetingPayload(plain)).toEqual({ kind: 'error', errorCode: 1040, message: 'Too many connections' });
    const withState = Buffer.concat([Buffer.from([0xff, 0x6a, 0x04]), Buffer.from("#HY000Host 'x' is not allowed")]);
    expect(parseGreetingPayload(withState)).toEqual({
      kind: 'error',
      errorCode: 1130,
      message: "Host 'x' is not allowed",
    });
  });

  it('refuses what is not a MySQL greeting', () => {
    expect(() => decodeMysqlGreeting(Buffer.from('SSH-2.0-OpenSSH_9.2\r\n'))).toThrow(/does not speak the MySQL/);
    expect(() => parseGreetingPayload(Buffer.from([0x09, 0x41, 0]))).toThrow(/protocol version 9/);
    expect(() => parseGreetingPayload(Buffer.from([0x0a, 0x41, 0x42]))).toThrow(/truncated/);
  });

  it("drops MariaDB's replication prefix only", () => {
    expect(reportedMysqlVersion('5.5.5-10.11.6-MariaDB-0+deb12u1')).toBe('10.11.6-MariaDB-0+deb12u1');
    expect(reportedMysqlVersion('11.4.2-MariaDB')).toBe('11.4.2-MariaDB');
    expect(reportedMysqlVersion('5.5.5')).toBe('5.5.5');
    expect(reportedMysqlVersion('8.0.36-0ubuntu0.22.04.1')).toBe('8.0.36-0ubuntu0.22.04.1');
  });
});

describe('mysql probe without a server', () => {
  it('says the connection was refused', async () => {
    const port = await freePort();
    const observation = await observeService(mysqlSpec({ port }));
    expect(observation).toMatchObject({ reachable: false, error: `connection refused at 127.0.0.1:${port}` });
    expect(observation.version).toBeUndefined();
  });

  it('gives up on a server that accepts and never answers, and closes its socket', async () => {
    const fake = await startFakeServer();
    try {
      const observation = await observeService(mysqlSpec({ port: fake.port, timeout: 0.3 }));
      expect(observation).toMatchObject({ reachable: false, error: 'no answer within 0.3 s' });
      await waitFor(() => fake.open() === 0, { message: 'the probe to close its socket' });
    } finally {
      fake.server.close();
    }
  });

  it('gives up on a silent server with a login configured too, and closes every socket', async () => {
    const fake = await startFakeServer();
    try {
      const spec = mysqlSpec({ port: fake.port, timeout: 0.3, user: 'app', passwordEnv: PASSWORD_ENV });
      const observation = await observeService(spec, { env: { [PASSWORD_ENV]: PASSWORD } });
      expect(observation).toMatchObject({ reachable: false, error: 'no answer within 0.3 s' });
      await waitFor(() => fake.open() === 0, { message: 'the probe to close its sockets' });
    } finally {
      fake.server.close();
    }
  });

  it('tells a peer that is not MySQL', async () => {
    const fake = await startFakeServer(Buffer.from('SSH-2.0-OpenSSH_9.2p1\r\n'));
    try {
      const observation = await observeService(mysqlSpec({ port: fake.port }));
      expect(observation.reachable).toBe(false);
      expect(observation.error).toMatch(/does not speak the MySQL protocol/);
    } finally {
      fake.server.close();
    }
  });

  it('reports an error packet as the server refusing the session', async () => {
    const refusal = Buffer.concat([Buffer.from([0xff, 0x10, 0x04]), Buffer.from('Too many connections')]);
    const fake = await startFakeServer(packet(refusal));
    try {
      const observation = await observeService(mysqlSpec({ port: fake.port }));
      expect(observation).toMatchObject({
        reachable: true,
        error: `127.0.0.1:${fake.port} refused the session: Too many connections (error 1040)`,
      });
    } finally {
      fake.server.close();
    }
  });
});

const support = mariadbSupport();

describe.skipIf(!support.ok)(
  `mysql probe on a real MariaDB${support.ok ? '' : ` (skipped: ${support.reason})`}`,
  () => {
    let mariadb: MariadbServer;
    const env = { [PASSWORD_ENV]: PASSWORD };
    const appSpec = (fields: Partial<MysqlServiceConfig> = {}) =>
      mysqlSpec({
        port: mariadb.port,
        user: 'app',
        database: 'appdb',
        passwordEnv: PASSWORD_ENV,
        tables: ['users', 'appdb.orders', 'ghosts'],
        ...fields,
      });

    beforeAll(async () => {
      mariadb = await startMariadb();
      await mariadb.query(
        [
          'CREATE DATABASE appdb',
          `CREATE USER 'app'@'%' IDENTIFIED BY '${PASSWORD}'`,
          "GRANT SELECT ON appdb.* TO 'app'@'%'",
          'CREATE TABLE appdb.users (id INT NOT NULL PRIMARY KEY, email VARCHAR(255) NOT NULL, note TEXT) ENGINE=InnoDB',
          'CREATE TABLE appdb.orders (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, total DECIMAL(10,2))',
          "INSERT INTO appdb.users VALUES (1, 'a@x', NULL), (2, 'b@x', 'hi'), (3, 'c@x', NULL)",
          'ANALYZE TABLE appdb.users, appdb.orders',
        ].join('; '),
      );
    });
    afterAll(async () => {
      await mariadb?.stop();
    });

    it('reads the version from the greeting alone, as SELECT @@version says it', async () => {
      const [[version]] = (await mariadb.query('SELECT @@version')) as [[string]];
      const observation = await observeService(mysqlSpec({ port: mariadb.port }));
      expect(observation).toMatchObject({ reachable: true, version: version, facts: {} });
      expect(observation.error).toBeUndefined();
    });

    it('reads the settings as SHOW GLOBAL VARIABLES says them', async () => {
      const rows = await mariadb.query(
        "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('sql_mode', 'innodb_buffer_pool_size', 'max_connections', 'time_zone', 'character_set_server', 'collation_server')",
      );
      const server = Object.fromEntries(rows.map(([name, value]) => [name, value]));
      const observation = await observeService(appSpec(), { env });
      expect(observation.error).toBeUndefined();
      expect(observation.facts).toMatchObject({
        'settings.sql_mode': server.sql_mode,
        'settings.innodb_buffer_pool_size': Number(server.innodb_buffer_pool_size),
        'settings.max_connections': Number(server.max_connections),
        'settings.time_zone': server.time_zone,
        'settings.character_set_server': server.character_set_server,
        'settings.collation_server': server.collation_server,
      });
      // The harness starts mariadbd with a 16 MB buffer pool: a real number, not a default.
      expect(observation.facts['settings.innodb_buffer_pool_size']).toBe(16 * 1024 * 1024);
    });

    it('sees a changed setting', async () => {
      await mariadb.query('SET GLOBAL max_connections = 77');
      const observation = await observeService(appSpec({ tables: [] }), { env });
      expect(observation.facts['settings.max_connections']).toBe(77);
    });

    it('reads tables from information_schema: estimated rows, column types, missing ones', async () => {
      const estimates = await mariadb.query(
        "SELECT TABLE_NAME, TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'appdb'",
      );
      const rows = Object.fromEntries(estimates.map(([name, count]) => [name, Number(count)]));
      const observation = await observeService(appSpec(), { env });
      expect(observation.error).toBeUndefined();
      const tableFacts = Object.fromEntries(
        Object.entries(observation.facts).filter(([path]) => path.startsWith('tables')),
      );
      expect(tableFacts).toEqual({
        'tables.users.rows': rows.users,
        'tables.users.columns.id': 'int(11) not null',
        'tables.users.columns.email': 'varchar(255) not null',
        'tables.users.columns.note': 'text',
        'tables["appdb.orders"].rows': rows.orders,
        'tables["appdb.orders"].columns.id': 'bigint(20) unsigned not null',
        'tables["appdb.orders"].columns.total': 'decimal(10,2)',
        'tables.ghosts.missing': true,
      });
      expect(rows.users).toBe(3);
    });

    it('reports a wrong password as a failed login, keeping the greeting, never the password', async () => {
      const wrong = `${PASSWORD}-wrong`;
      const observation = await observeService(appSpec(), { env: { [PASSWORD_ENV]: wrong } });
      const [[version]] = (await mariadb.query('SELECT @@version')) as [[string]];
      expect(observation).toMatchObject({ reachable: true, version, facts: {} });
      expect(observation.error).toMatch(
        /^login as app failed: Access denied for user 'app'@'127\.0\.0\.1' \(using password: YES\)/,
      );
      expect(JSON.stringify(observation)).not.toContain(PASSWORD);
    });

    it('says which env var is missing and still reads the greeting', async () => {
      const observation = await observeService(appSpec(), { env: {} });
      expect(observation.reachable).toBe(true);
      expect(observation.error).toContain(`env var ${PASSWORD_ENV} (passwordEnv) is not set`);
      expect(observation.error).toContain('login as app failed: Access denied');
    });

    it('reads the greeting and logs in over the unix socket when the host is its path', async () => {
      const [[version]] = (await mariadb.query('SELECT @@version')) as [[string]];
      expect(await observeService(mysqlSpec({ host: mariadb.socketPath, port: 3306 }))).toMatchObject({
        reachable: true,
        version,
      });
      const [[maxConnections]] = (await mariadb.query('SELECT @@max_connections')) as [[string]];
      const observation = await observeService(appSpec({ host: mariadb.socketPath, tables: [] }), { env });
      expect(observation.error).toBeUndefined();
      expect(observation).toMatchObject({
        reachable: true,
        version,
        facts: { 'settings.max_connections': Number(maxConnections) },
      });
    });

    it('leaves no aborted connection behind with a login; the greeting alone leaves one', async () => {
      const abortedConnects = async () =>
        Number((await mariadb.query("SHOW GLOBAL STATUS LIKE 'Aborted_connects'"))[0]?.[1]);
      const abortedClients = async () =>
        Number((await mariadb.query("SHOW GLOBAL STATUS LIKE 'Aborted_clients'"))[0]?.[1]);
      const before = { connects: await abortedConnects(), clients: await abortedClients() };
      expect((await observeService(appSpec(), { env })).error).toBeUndefined();
      // The greeting-only probe comes second: once its abort is counted, the login's would have been.
      expect((await observeService(mysqlSpec({ port: mariadb.port }))).reachable).toBe(true);
      await waitFor(async () => (await abortedConnects()) > before.connects, { message: 'Aborted_connects to move' });
      expect(await abortedConnects()).toBe(before.connects + 1);
      expect(await abortedClients()).toBe(before.clients);
    });

    it('never puts the password in facts or errors when it works either', async () => {
      const observation = await observeService(appSpec(), { env });
      expect(JSON.stringify(observation)).not.toContain(PASSWORD);
    });
  },
);
