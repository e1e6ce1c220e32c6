/**
 * `startAggregator()`: the BUILT aggregator bin as a real process on 127.0.0.1, with known bootstrap
 * secrets, its URL read from the `listening` log line. `restart()` reuses the data dir and port, so
 * agents reconnect to the same address after a crash.
 */
import { join } from 'node:path';
import { type ExitInfo, type ManagedProcess, makeTempDir, REPO_ROOT, spawnManaged } from './processes.js';

export const AGGREGATOR_BIN = join(REPO_ROOT, 'aggregator/bin/envparity-aggregator.js');
export const TEST_ENROLL_SECRET = 'e2e-enroll-secret';
export const TEST_ADMIN_TOKEN = 'e2e-admin-token';
/** The database file inside the data dir (aggregator/src/serve.ts DB_FILE). */
export const AGGREGATOR_DB_FILE = 'envparity.db';

export interface StartAggregatorOptions {
  /** Default: a fresh temp dir. */
  dataDir?: string;
  /** Extra environment (over the test process's); ENVPARITY_* secrets default to the TEST_* values. */
  env?: NodeJS.ProcessEnv;
  /** Extra CLI args after `serve ...` (e.g. `['--config', file]`). */
  args?: readonly string[];
  /** Default 0 (any free port). */
  port?: number;
  logLevel?: string;
  /** How long to wait for the `listening` line. */
  startTimeoutMs?: number;
}

export interface AggregatorHandle {
  readonly url: string;
  /** The agent channel, `ws://127.0.0.1:PORT/api/v1/agent`. */
  readonly wsUrl: string;
  readonly port: number;
  readonly pid: number;
  readonly dataDir: string;
  readonly dbPath: string;
  readonly adminToken: string;
  readonly enrollSecret: string;
  readonly process: ManagedProcess;
  /** Every output line so far (live array). */
  readonly logs: string[];
  /** fetch() on the aggregator with the admin bearer token. */
  api(path: string, init?: RequestInit): Promise<Response>;
  /** GET + JSON; throws with the status and body on a non-2xx answer. */
  json<T = unknown>(path: string): Promise<T>;
  /** GET /metrics text. */
  metrics(): Promise<string>;
  /** Signals the process group (default SIGKILL) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<ExitInfo>;
  /** SIGTERM (clean shutdown), SIGKILL after 10 s; resolves with the exit. */
  stop(): Promise<ExitInfo>;
  /** A new process on the same data dir and port (the old one must have exited). */
  restart(overrides?: Omit<StartAggregatorOptions, 'dataDir' | 'port'>): Promise<AggregatorHandle>;
}

export async function startAggregator(options: StartAggregatorOptions = {}): Promise<AggregatorHandle> {
  const dataDir = options.dataDir ?? (await makeTempDir('envparity-e2e-aggregator-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ENVPARITY_ENROLL_SECRET: TEST_ENROLL_SECRET,
    ENVPARITY_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    ...options.env,
  };
  const args = [
    AGGREGATOR_BIN,
    'serve',
    '--host',
    '127.0.0.1',
    '--port',
    String(options.port ?? 0),
    '--data',
    dataDir,
    '--log-level',
    options.logLevel ?? 'info',
    ...(options.args ?? []),
  ];
  const proc = spawnManaged(process.execPath, args, { env, name: 'aggregator' });
  const listening = await proc.waitForLog((line) => line.msg === 'listening', {
    timeoutMs: options.startTimeoutMs ?? 20_000,
    what: 'the listening line',
  });
  const url = String(listening.url);
  const adminToken = String(env.ENVPARITY_ADMIN_TOKEN);
  const api = (path: string, init: RequestInit = {}) =>
    fetch(new URL(path, url), {
      ...init,
      headers: { authorization: `Bearer ${adminToken}`, ...(init.headers as Record<string, string> | undefined) },
    });

  const handle: AggregatorHandle = {
    url,
    wsUrl: String(listening.agentUrl),
    port: Number(listening.port),
    pid: proc.pid,
    dataDir,
    dbPath: join(dataDir, AGGREGATOR_DB_FILE),
    adminToken,
    enrollSecret: String(env.ENVPARITY_ENROLL_SECRET),
    process: proc,
    logs: proc.logs,
    api,
    async json<T>(path: string): Promise<T> {
      const response = await api(path);
      const text = await response.text();
      if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${text}`);
      return JSON.parse(text) as T;
    },
    async metrics() {
      const response = await fetch(new URL('/metrics', url));
      return response.text();
    },
    kill: (signal = 'SIGKILL') => proc.kill(signal),
    stop: () => proc.kill('SIGTERM'),
    async restart(overrides = {}) {
      if (proc.running) throw new Error('restart(): the aggregator process is still running');
      return startAggregator({ ...options, ...overrides, dataDir, port: handle.port });
    },
  };
  return handle;
}

/** Shapes of the API answers the tests read. */
export interface ApiHost {
  id: string;
  environment: string;
  labels: Record<string, string>;
  online: boolean;
  lastSeen: string | null;
  fingerprint: string | null;
}
export interface ApiHostDetail extends ApiHost {
  lastSeq: number;
  facts: Record<string, unknown>;
}
export interface ApiChange {
  at: string;
  seq: number;
  path: string;
  from?: unknown;
  to?: unknown;
}
