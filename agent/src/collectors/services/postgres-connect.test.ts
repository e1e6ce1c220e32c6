import { createServer, type Server, type Socket } from 'node:net';
import { type PostgresServiceConfig, postgresServiceSchema } from '@envparity/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresServer, postgresSupport, startPostgres } from '../../../../test/helpers/postgres-server.js';
import { waitFor } from '../../../../test/helpers/wait-for.js';
import { type ObserveOptions, observeService, type TimedObservation } from './observe.js';

/** Distinctive, so that finding either anywhere in an observation can only mean a leak. */
const PASSWORD = 'pw-Hx4#right-canary-2718';
const WRONG_PASSWORD = 'pw-Kd9%wrong-canary-1618';
const PASSWORD_ENV = 'ENVPARITY_TEST_PG_PASSWORD';

const support = postgresSupport();
let scram: PostgresServer;
let md5: PostgresServer;

function spec(server: { host: string; port: number }, overrides: Record<string, unknown> = {}): PostgresServiceConfig {
  return postgresServiceSchema.parse({
    name: 'db',
    type: 'postgres',
    host: server.host,
    port: server.port,
    database: 'app',
    user: 'app',
    passwordEnv: PASSWORD_ENV,
    ...overrides,
  });
}

async function observe(
  service: PostgresServiceConfig,
  /** null: no password in the env at all. */
  password: string | null = PASSWORD,
  options: ObserveOptions = {},
): Promise<TimedObservation> {
  const env = password === null ? {} : { [PASSWORD_ENV]: password };
  const observation = await observeService(service, { env, ...options });
  const text = JSON.stringify(observation);
  expect(text).not.toContain(PASSWORD);
  expect(text).not.toContain(WRONG_PASSWORD);
  return observation;
}

/** A TCP server that accepts connections and never says a word (a hung server, a black hole). */
async function startSilentServer(): Promise<{ server: Server; port: number; sockets: Socket[]; closed: Socket[] }> {
  const sockets: Socket[] = [];
  const closed: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    socket.on('close', () => closed.push(socket));
    // Reads (and ignores) what arrives: a paused socket would never see the probe's FIN.
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port, sockets, closed };
}

/** A port nothing listens on: bound by the kernel, then released. */
async function closedPort(): Promise<number> {
  const { server, port } = await startSilentServer();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  if (!support.ok) return;
  // Two clusters at once: SCRAM (the default) and md5 (older servers and poolers still use it).
  [scram, md5] = await Promise.all([
    startPostgres({ roles: [{ name: 'app', password: PASSWORD }], databases: [{ name: 'app', owner: 'app' }] }),
    startPostgres({
      passwordAuth: 'md5',
      roles: [{ name: 'app', password: PASSWORD }],
      databases: [{ name: 'app', owner: 'app' }],
    }),
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.all([scram?.stop(), md5?.stop()]);
});

describe.skipIf(!support.ok)(`postgres probe failures${support.ok ? '' : ` (skipped: ${support.reason})`}`, () => {
  it('logs in with SCRAM and with md5', async () => {
    for (const server of [scram, md5]) {
      const observation = await observe(spec(server));
      expect(observation.error).toBeUndefined();
      expect(observation.reachable).toBe(true);
    }
    const [method] = await md5.query<{ rolpassword: string }>(
      `SELECT rolpassword FROM pg_authid WHERE rolname = 'app'`,
    );
    expect(method?.rolpassword.startsWith('md5')).toBe(true);
  });

  it('a wrong password: unreachable, the server says why, neither password appears', async () => {
    for (const server of [scram, md5]) {
      const observation = await observe(spec(server), WRONG_PASSWORD);
      expect(observation.reachable).toBe(false);
      expect(observation.error).toBe('password authentication failed for user "app"');
      expect(observation.facts).toEqual({});
    }
  });

  it('no password configured for a server that asks one: says where to put it', async () => {
    const observation = await observe(spec(scram, { passwordEnv: undefined }), null);
    expect(observation.reachable).toBe(false);
    expect(observation.error).toBe(
      'the server asks a password for user app: set passwordEnv or passwordFile for this service',
    );
  });

  it('a passwordEnv that is not set: both the missing variable and the refusal are named', async () => {
    const observation = await observe(spec(scram), null);
    expect(observation.reachable).toBe(false);
    expect(observation.error).toMatch(/^env var ENVPARITY_TEST_PG_PASSWORD \(passwordEnv\) is not set; /);
  });

  it('a database that does not exist', async () => {
    const observation = await observe(spec(scram, { database: 'nope' }));
    expect(observation.reachable).toBe(false);
    expect(observation.error).toBe('database "nope" does not exist');
  });

  it('a port with nothing listening: connection refused', async () => {
    const port = await closedPort();
    const observation = await observe(spec({ host: '127.0.0.1', port }));
    expect(observation.reachable).toBe(false);
    expect(observation.error).toBe(`connection refused at 127.0.0.1:${port}`);
  });

  it('a server that accepts and never answers: unreachable at the timeout, the socket closed', async () => {
    const silent = await startSilentServer();
    try {
      const observation = await observe(spec({ host: '127.0.0.1', port: silent.port }, { timeout: 0.5 }));
      expect(observation.reachable).toBe(false);
      expect(observation.error).toMatch(/no answer .*within 0\.5 s/);
      expect(silent.sockets).toHaveLength(1);
      await waitFor(() => silent.closed.length === 1, { message: 'the probe to close its socket' });
    } finally {
      silent.server.close();
    }
  });

  it('a cancelled pass closes the connection at once, well before the service timeout', async () => {
    const silent = await startSilentServer();
    const pass = new AbortController();
    silent.server.once('connection', () => pass.abort());
    try {
      const observation = await observe(spec({ host: '127.0.0.1', port: silent.port }, { timeout: 60 }), PASSWORD, {
        signal: pass.signal,
      });
      expect(observation.reachable).toBe(false);
      await waitFor(() => silent.closed.length === 1, { message: 'the probe to close its socket on abort' });
    } finally {
      silent.server.close();
    }
  });
});
