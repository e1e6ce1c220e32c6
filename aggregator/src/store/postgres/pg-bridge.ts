/**
 * A synchronous PostgreSQL connection for the repositories. node-postgres is asynchronous; the
 * repositories' interfaces are synchronous (the SQLite store, the fleet state and the ingest batcher
 * rely on it: a batch is one transaction with no other work interleaved). So a worker thread owns
 * the pool (lib/pg-bridge-worker.cjs) and the main thread blocks on an Atomics.wait until the reply
 * is posted, exactly as it blocks inside better-sqlite3. The cost is one thread hop per call
 * (measured in docs/BENCHMARKS.md); writes whose results nobody reads are queued and sent in one
 * hop (`defer`, flushed before the next read or the commit).
 *
 * A call waits at most `timeoutMs`. PostgreSQL's own `statement_timeout` is set below it, so a
 * slow statement is cancelled by the server and the bridge stays usable; if the bridge itself times
 * out (the worker or the network hung) it is closed and every later call fails naming that.
 */
import { createRequire } from 'node:module';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { StoreError } from '../../errors.js';

export interface PgConnectionOptions {
  /** `postgres://user@host:port/db`; a password in it is used and never printed. */
  connectionString: string;
  /** From `PGPASSWORD` or a password file when the URL has none. */
  password?: string;
  /** Most a call may take (default 30 s). */
  timeoutMs?: number;
  /** `application_name`, as `pg_stat_activity` shows it. */
  applicationName?: string;
}

export interface PgResult<Row> {
  rows: Row[];
  rowCount: number;
}

interface Statement {
  sql: string;
  params: readonly unknown[];
}

type Request =
  | ({ op: 'query' } & Statement)
  | { op: 'exec'; sql: string }
  | { op: 'batch'; statements: Statement[] }
  | { op: 'begin' | 'commit' | 'rollback' | 'end' };

type Reply =
  | { id: number; ok: true; value: PgResult<unknown> }
  | { id: number; ok: false; error: { message: string; code?: string; constraint?: string; detail?: string } };

/** A statement PostgreSQL refused; `code` is its SQLSTATE (23505 unique violation, ...). */
export class PgQueryError extends StoreError {
  readonly sqlState: string | undefined;
  readonly constraint: string | undefined;
  constructor(message: string, sqlState: string | undefined, constraint: string | undefined) {
    super('STORE_FAILED', message);
    this.sqlState = sqlState;
    this.constraint = constraint;
  }
}

const DEFAULT_TIMEOUT_MS = 30_000;
const WORKER_PATH = new URL('../../../lib/pg-bridge-worker.cjs', import.meta.url);

/** `host:port/database` of a connection string, for messages: never the user's password. */
export function describeConnection(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    return `${url.hostname || 'localhost'}:${url.port || '5432'}${url.pathname || '/'}`;
  } catch {
    return 'the PostgreSQL server';
  }
}

/** The server's clock in ms, for rows several aggregators compare (their own clocks need not agree). */
export const PG_SERVER_NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)::bigint';

export class PgBridge {
  readonly description: string;
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly signal = new Int32Array(new SharedArrayBuffer(4));
  private readonly timeoutMs: number;
  private readonly deferred: Statement[] = [];
  private nextId = 1;
  private closedBecause: string | undefined;
  private depth = 0;
  private flushes = 0;
  private calls = 0;

  constructor(options: PgConnectionOptions) {
    this.description = describeConnection(options.connectionString);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const connection = {
      connectionString: options.connectionString,
      ...(options.password !== undefined ? { password: options.password } : {}),
      application_name: options.applicationName ?? 'envparity-aggregator',
      connectionTimeoutMillis: Math.min(10_000, this.timeoutMs),
      // The server cancels a slow statement before the bridge gives up on it.
      statement_timeout: Math.max(1_000, this.timeoutMs - 2_000),
      keepAlive: true,
    };
    this.worker = new Worker(WORKER_PATH, {
      workerData: {
        pgPath: createRequire(import.meta.url).resolve('pg'),
        connection,
        port: port2,
        signal: this.signal.buffer,
      },
      transferList: [port2],
    });
    // The main thread never waits on the worker's lifetime (it must not keep the process alive).
    this.worker.unref();
    this.port.unref();
    this.worker.on('error', (error) => {
      this.closedBecause ??= `the PostgreSQL bridge failed: ${error.message}`;
    });
  }

  /** Rows of one statement (`$1`... placeholders). Deferred writes go first, in order. */
  query<Row = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): PgResult<Row> {
    this.flush();
    return this.call({ op: 'query', sql, params: [...params] }) as PgResult<Row>;
  }

  /** The first row, or undefined. */
  get<Row = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Row | undefined {
    return this.query<Row>(sql, params).rows[0];
  }

  /** Rows changed. */
  run(sql: string, params: readonly unknown[] = []): number {
    return this.query(sql, params).rowCount;
  }

  /** Several statements without parameters (migrations). */
  exec(sql: string): void {
    this.flush();
    this.call({ op: 'exec', sql });
  }

  /**
   * A write whose result nobody reads: sent with the next read, the next flush or the commit, so a
   * batch of them costs one round trip. A failure surfaces from that call.
   */
  defer(sql: string, params: readonly unknown[] = []): void {
    this.assertOpen();
    this.deferred.push({ sql, params: [...params] });
  }

  /**
   * A write whose result nobody reads: deferred inside a transaction (a failure still surfaces
   * before its savepoint is released or the commit), run at once outside one so it is durable
   * when the call returns.
   */
  write(sql: string, params: readonly unknown[] = []): void {
    if (this.inTransaction) this.defer(sql, params);
    else this.run(sql, params);
  }

  flush(): void {
    if (this.deferred.length === 0) return;
    const statements = this.deferred.splice(0);
    this.flushes++;
    this.call({ op: 'batch', statements });
  }

  /**
   * Runs `fn` in a transaction: BEGIN ... COMMIT, ROLLBACK when it throws. Nested calls are
   * savepoints, as better-sqlite3's transactions nest (PostgreSQL aborts the whole transaction on
   * a failed statement unless it rolls back to a savepoint, so a caught failure needs one).
   */
  transaction<T>(fn: () => T): T {
    return this.depth === 0 ? this.topTransaction(fn) : this.savepoint(fn);
  }

  private topTransaction<T>(fn: () => T): T {
    this.call({ op: 'begin' });
    this.depth++;
    try {
      const result = fn();
      this.flush();
      this.depth--;
      this.call({ op: 'commit' });
      return result;
    } catch (error) {
      this.depth--;
      this.deferred.length = 0;
      if (this.closedBecause === undefined) this.call({ op: 'rollback' });
      throw error;
    }
  }

  /**
   * A savepoint costs no round trip of its own: SAVEPOINT goes out with the savepoint's writes
   * (flushed before it is released, so a failure is still this savepoint's) and RELEASE with the
   * next call. One report in the ingest batcher is then one hop.
   */
  private savepoint<T>(fn: () => T): T {
    const name = `envparity_sp_${this.depth}`;
    const mark = this.deferred.length;
    const flushesBefore = this.flushes;
    this.defer(`SAVEPOINT ${name}`);
    this.depth++;
    try {
      const result = fn();
      this.flush();
      this.depth--;
      this.defer(`RELEASE SAVEPOINT ${name}`);
      return result;
    } catch (error) {
      this.depth--;
      if (this.flushes === flushesBefore) {
        // Nothing of the savepoint reached the server: forget it and its writes.
        this.deferred.length = mark;
      } else {
        // What is still queued is the savepoint's own (the flush sent everything before it).
        this.deferred.length = 0;
        if (this.closedBecause === undefined) {
          this.query(`ROLLBACK TO SAVEPOINT ${name}`);
          this.defer(`RELEASE SAVEPOINT ${name}`);
        }
      }
      throw error;
    }
  }

  /** Round trips to the worker so far (benchmarks). */
  get roundTrips(): number {
    return this.calls;
  }

  get inTransaction(): boolean {
    return this.depth > 0;
  }

  /** Ends the pool and the worker. */
  close(): void {
    if (this.closedBecause !== undefined) {
      void this.worker.terminate();
      return;
    }
    try {
      this.flush();
      this.call({ op: 'end' });
    } finally {
      this.closedBecause = 'the PostgreSQL store is closed';
      this.port.close();
      void this.worker.terminate();
    }
  }

  private assertOpen(): void {
    if (this.closedBecause !== undefined) throw new StoreError('STORE_FAILED', this.closedBecause);
  }

  private call(request: Request): PgResult<unknown> {
    this.assertOpen();
    this.calls++;
    const id = this.nextId++;
    Atomics.store(this.signal, 0, 0);
    this.port.postMessage({ id, ...request });
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0 || Atomics.wait(this.signal, 0, 0, remaining) === 'timed-out') {
        this.closedBecause = `no answer from PostgreSQL at ${this.description} within ${this.timeoutMs} ms; the store is closed`;
        void this.worker.terminate();
        throw new StoreError('STORE_FAILED', this.closedBecause);
      }
      const received = receiveMessageOnPort(this.port);
      if (received === undefined) {
        // Woken without a reply (the worker died): the error handler says why.
        if (this.closedBecause !== undefined) this.assertOpen();
        Atomics.store(this.signal, 0, 0);
        continue;
      }
      const reply = received.message as Reply;
      // A reply to an earlier call that timed out cannot arrive (the bridge closed then); skip defensively.
      if (reply.id !== id) continue;
      if (reply.ok) return reply.value;
      throw new PgQueryError(
        `PostgreSQL at ${this.description}: ${reply.error.message}`,
        reply.error.code,
        reply.error.constraint,
      );
    }
  }
}
