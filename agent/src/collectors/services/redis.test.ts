/**
 * The redis probe: its RESP reader on hand-written bytes, then against real throwaway redis-servers
 * (test/helpers/redis-server.ts) whose own `redis-cli` says what the facts must be, and a scripted
 * RESP server for what a real Redis 7 never does (an INFO without maxmemory, CONFIG renamed away).
 * Refused, silent and non-Redis peers and wrong passwords end in clear errors, never the password.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { type RedisServiceConfig, serviceSchema } from '@envparity/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../../test/helpers/mariadb-server.js';
import { type RedisServer, redisSupport, startRedis } from '../../../../test/helpers/redis-server.js';
import { waitFor } from '../../../../test/helpers/wait-for.js';
import { observeService } from './observe.js';
import { decodeReply, encodeCommand, parseInfo, RespErrorReply } from './resp.js';

const PASSWORD = 'canary-redis-Pw-8b2f57';
const PASSWORD_ENV = 'ENVPARITY_TEST_REDIS_PASSWORD';

function redisSpec(fields: Partial<RedisServiceConfig> & { port: number }): RedisServiceConfig {
  return serviceSchema.parse({ name: 'cache', type: 'redis', host: '127.0.0.1', ...fields }) as RedisServiceConfig;
}

/** A TCP server answering each command with `answer(args)` (or never, when it returns undefined). */
async function startScriptedServer(answer: (args: string[]) => string | undefined) {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (let command = decodeReply(buffered); command; command = decodeReply(buffered)) {
        buffered = buffered.subarray(command.length);
        const reply = answer(command.value as string[]);
        if (reply !== undefined) socket.write(reply);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { port, open: () => sockets.size, close: () => server.close() };
}

const bulk = (text: string) => `$${Buffer.byteLength(text)}\r\n${text}\r\n`;

/** One field of `redis-cli INFO <section>`. */
async function infoField(redis: RedisServer, section: string, field: string): Promise<string | undefined> {
  return parseInfo(await redis.command('INFO', section)).get(field);
}

describe('RESP', () => {
  it('encodes a command as an array of bulk strings', () => {
    expect(encodeCommand(['AUTH', 'pä']).toString('utf8')).toBe('*2\r\n$4\r\nAUTH\r\n$3\r\npä\r\n');
  });

  it('decodes every RESP2 reply type', () => {
    const cases: Array<[string, unknown]> = [
      ['+OK\r\n', 'OK'],
      [':42\r\n', 42],
      [':-1\r\n', -1],
      ['$5\r\nhe\r\no\r\n', 'he\r\no'],
      ['$0\r\n\r\n', ''],
      ['$-1\r\n', null],
      ['*-1\r\n', null],
      ['*3\r\n$9\r\nmaxmemory\r\n:0\r\n*1\r\n+x\r\n', ['maxmemory', 0, ['x']]],
    ];
    for (const [wire, value] of cases) {
      expect(decodeReply(Buffer.from(wire))).toEqual({ value, length: Buffer.byteLength(wire) });
    }
    const error = decodeReply(Buffer.from('-WRONGPASS invalid username-password pair\r\n'))?.value;
    expect(error).toBeInstanceOf(RespErrorReply);
    expect((error as RespErrorReply).kind).toBe('WRONGPASS');
  });

  it('waits for a complete reply and leaves what follows', () => {
    expect(decodeReply(Buffer.from('$5\r\nhel'))).toBeUndefined();
    expect(decodeReply(Buffer.from('*2\r\n+a\r\n'))).toBeUndefined();
    expect(decodeReply(Buffer.from('+OK'))).toBeUndefined();
    expect(decodeReply(Buffer.from('+OK\r\n:1\r\n'))).toEqual({ value: 'OK', length: 5 });
  });

  it('refuses bytes that are not RESP', () => {
    expect(() => decodeReply(Buffer.from('HTTP/1.1 400 Bad Request\r\n'))).toThrow(/does not speak the Redis/);
    expect(() => decodeReply(Buffer.from(':12x\r\n'))).toThrow(/expected an integer/);
  });

  it('parses INFO text', () => {
    const info = parseInfo(
      '# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n\r\n# Memory\r\nmaxmemory:0\r\n',
    );
    expect(Object.fromEntries(info)).toEqual({ redis_version: '7.0.15', redis_mode: 'standalone', maxmemory: '0' });
  });
});

describe('redis probe without a real server', () => {
  it('says the connection was refused', async () => {
    const port = await freePort();
    expect(await observeService(redisSpec({ port }))).toMatchObject({
      reachable: false,
      facts: {},
      error: `connection refused at 127.0.0.1:${port}`,
    });
  });

  it('gives up on a server that never answers, and closes its socket', async () => {
    const silent = await startScriptedServer(() => undefined);
    try {
      const observation = await observeService(redisSpec({ port: silent.port, timeout: 0.3 }));
      expect(observation).toMatchObject({ reachable: false, error: 'no answer within 0.3 s' });
      await waitFor(() => silent.open() === 0, { message: 'the probe to close its socket' });
    } finally {
      silent.close();
    }
  });

  it('tells a peer that is not Redis', async () => {
    const http = await startScriptedServer(() => 'HTTP/1.1 400 Bad Request\r\n\r\n');
    try {
      const observation = await observeService(redisSpec({ port: http.port }));
      expect(observation.reachable).toBe(false);
      expect(observation.error).toMatch(/does not speak the Redis protocol/);
    } finally {
      http.close();
    }
  });

  it("reports a refusing server's reply even when it hangs up right after", async () => {
    const denied = '-DENIED Redis is running in protected mode because protected mode is enabled\r\n';
    const server = createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () => socket.end(denied));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    try {
      const observation = await observeService(
        redisSpec({ port: typeof address === 'object' && address ? address.port : 0 }),
      );
      expect(observation).toMatchObject({
        reachable: true,
        facts: {},
        error: 'INFO server: DENIED Redis is running in protected mode because protected mode is enabled',
      });
    } finally {
      server.close();
    }
  });

  it('falls back to CONFIG GET when INFO lacks a setting, and says when that is refused too', async () => {
    const seen: string[][] = [];
    const scripted = await startScriptedServer((args) => {
      seen.push(args);
      const [command, sub, name] = args.map((arg) => arg.toLowerCase());
      if (command === 'info' && sub === 'server')
        return bulk('# Server\r\nredis_version:6.2.1\r\nredis_mode:cluster\r\n');
      if (command === 'info') return bulk('# Memory\r\nused_memory:1\r\n');
      if (command === 'config' && name === 'maxmemory') return `*2\r\n${bulk('maxmemory')}${bulk('1048576')}`;
      return "-ERR unknown command 'CONFIG'\r\n";
    });
    try {
      const observation = await observeService(redisSpec({ port: scripted.port }));
      expect(observation).toMatchObject({
        reachable: true,
        version: '6.2.1',
        facts: { mode: 'cluster', 'settings.maxmemory': 1048576 },
        error: "maxmemory-policy unreadable (not in INFO memory; CONFIG GET: ERR unknown command 'CONFIG')",
      });
      expect(seen.map((args) => args.join(' '))).toEqual([
        'INFO server',
        'INFO memory',
        'CONFIG GET maxmemory-policy',
        'CONFIG GET maxmemory',
      ]);
    } finally {
      scripted.close();
    }
  });
});

const support = redisSupport();
const skipNote = support.ok ? '' : ` (skipped: ${support.reason})`;

describe.skipIf(!support.ok)(`redis probe on a real redis-server${skipNote}`, () => {
  let open: RedisServer;
  let locked: RedisServer;
  const env = { [PASSWORD_ENV]: PASSWORD };

  beforeAll(async () => {
    [open, locked] = await Promise.all([
      startRedis({ config: { maxmemory: '64mb', 'maxmemory-policy': 'allkeys-lru' } }),
      startRedis({ password: PASSWORD }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([open?.stop(), locked?.stop()]);
  });

  it('reports what INFO says: version, mode, maxmemory and its policy', async () => {
    const observation = await observeService(redisSpec({ port: open.port }));
    expect(observation.error).toBeUndefined();
    expect(observation).toMatchObject({
      reachable: true,
      version: await infoField(open, 'server', 'redis_version'),
      facts: {
        mode: await infoField(open, 'server', 'redis_mode'),
        'settings.maxmemory': Number(await infoField(open, 'memory', 'maxmemory')),
        'settings.maxmemory-policy': await infoField(open, 'memory', 'maxmemory_policy'),
      },
    });
    expect(observation.facts).toMatchObject({ 'settings.maxmemory': 64 * 1024 * 1024, mode: 'standalone' });
    expect(Object.keys(observation.facts).sort()).toEqual(['mode', 'settings.maxmemory', 'settings.maxmemory-policy']);
  });

  it('sees a changed setting', async () => {
    await open.command('CONFIG', 'SET', 'maxmemory-policy', 'volatile-ttl');
    const observation = await observeService(redisSpec({ port: open.port }));
    expect(observation.facts['settings.maxmemory-policy']).toBe('volatile-ttl');
  });

  it('logs in with the password from passwordEnv', async () => {
    const observation = await observeService(redisSpec({ port: locked.port, passwordEnv: PASSWORD_ENV }), { env });
    expect(observation.error).toBeUndefined();
    expect(observation.version).toBe(await infoField(locked, 'server', 'redis_version'));
    expect(JSON.stringify(observation)).not.toContain(PASSWORD);
  });

  it('reports a wrong password as failed authentication: reachable, no version, no password', async () => {
    const wrong = `${PASSWORD}-wrong`;
    const observation = await observeService(redisSpec({ port: locked.port, passwordEnv: PASSWORD_ENV }), {
      env: { [PASSWORD_ENV]: wrong },
    });
    expect(observation).toMatchObject({ reachable: true, facts: {} });
    expect(observation.version).toBeUndefined();
    expect(observation.error).toMatch(/^authentication failed for user default: WRONGPASS /);
    expect(JSON.stringify(observation)).not.toContain(PASSWORD);
  });

  it('says a password is needed when none is configured', async () => {
    expect(await observeService(redisSpec({ port: locked.port }))).toMatchObject({
      reachable: true,
      facts: {},
      error: 'authentication required: the server wants a password (passwordEnv or passwordFile)',
    });
  });

  it('logs in as an ACL user, and names that user when its password is wrong', async () => {
    await locked.command('ACL', 'SETUSER', 'probe', 'on', `>${PASSWORD}`, '+info', '+config|get');
    const spec = redisSpec({ port: locked.port, username: 'probe', passwordEnv: PASSWORD_ENV });
    const good = await observeService(spec, { env });
    expect(good.error).toBeUndefined();
    expect(good.facts['settings.maxmemory-policy']).toBe(await infoField(locked, 'memory', 'maxmemory_policy'));
    const bad = await observeService(spec, { env: { [PASSWORD_ENV]: 'not-it' } });
    expect(bad.error).toMatch(/^authentication failed for user probe: WRONGPASS /);
  });

  it('still reads a server without a password when one is configured, saying AUTH was refused', async () => {
    const observation = await observeService(redisSpec({ port: open.port, passwordEnv: PASSWORD_ENV }), { env });
    expect(observation.version).toBe(await infoField(open, 'server', 'redis_version'));
    expect(observation.error).toMatch(/^AUTH refused: ERR AUTH <password> called without any password configured/);
    expect(JSON.stringify(observation)).not.toContain(PASSWORD);
  });
});
