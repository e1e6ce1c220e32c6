/**
 * A throwaway Redis server for the redis service probe's tests: `redis-server` on 127.0.0.1 and a
 * free port, its dir a temp dir, no persistence, an optional `requirepass` and extra config
 * directives. Never the system service, never port 6379. `command()` runs `redis-cli`, so what the
 * test compares with comes from Redis's own client, not from the probe's RESP code.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './mariadb-server.js';
import { runToCompletion, spawnManaged } from './processes.js';
import { waitFor } from './wait-for.js';

export const REDIS_SERVER_PATH = '/usr/bin/redis-server';
export const REDIS_CLI_PATH = '/usr/bin/redis-cli';
const STARTUP_TIMEOUT_MS = 15_000;

export interface RedisServerOptions {
  /** `requirepass`: clients must AUTH with it. */
  password?: string;
  /** More directives, e.g. `{ 'maxmemory-policy': 'allkeys-lru' }` (passed as `--name value`). */
  config?: Record<string, string>;
}

export interface RedisServer {
  host: string;
  port: number;
  /** Runs one command through `redis-cli` (authenticated when the server has a password); its raw output, trimmed. */
  command(...args: string[]): Promise<string>;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

/**
 * Whether the Redis tests can run. In CI (`ENVPARITY_REQUIRE_SERVERS=1`, set by `.ci/run`) a
 * missing server is an error, never a skip.
 */
export function redisSupport(): { ok: true } | { ok: false; reason: string } {
  const missing = [REDIS_SERVER_PATH, REDIS_CLI_PATH].filter((path) => !existsSync(path));
  if (missing.length === 0) return { ok: true };
  const reason = `no ${missing.join(', ')} (apt-get install redis-server)`;
  if (process.env.ENVPARITY_REQUIRE_SERVERS === '1') throw new Error(`server tests are required here: ${reason}`);
  return { ok: false, reason };
}

export async function startRedis({ password, config = {} }: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'envparity-redis-'));
  const host = '127.0.0.1';
  const port = await freePort();
  const directives: Record<string, string> = {
    port: String(port),
    bind: host,
    dir,
    save: '',
    appendonly: 'no',
    daemonize: 'no',
    ...(password === undefined ? {} : { requirepass: password }),
    ...config,
  };
  const server = spawnManaged(
    REDIS_SERVER_PATH,
    Object.entries(directives).flatMap(([name, value]) => [`--${name}`, value]),
    { name: 'redis-server' },
  );
  const command = async (...args: string[]): Promise<string> => {
    // REDISCLI_AUTH keeps the password off the command line (and redis-cli quiet about it).
    const env = password === undefined ? process.env : { ...process.env, REDISCLI_AUTH: password };
    const run = await runToCompletion(REDIS_CLI_PATH, ['-h', host, '-p', String(port), ...args], { env });
    if (run.code !== 0) throw new Error(`redis-cli ${args.join(' ')} failed (${run.code}): ${run.stderr}`);
    return run.stdout.trim();
  };
  const stop = async () => {
    await server.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (!server.running) throw new Error(`redis-server exited: ${server.tail()}`);
        return (await command('PING')) === 'PONG';
      },
      { timeoutMs: STARTUP_TIMEOUT_MS, intervalMs: 100, message: `redis-server on ${host}:${port}` },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { host, port, command, stop };
}
