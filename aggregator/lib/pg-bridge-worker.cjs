'use strict';
/**
 * The worker side of the synchronous PostgreSQL bridge (src/store/postgres/pg-bridge.ts): it owns
 * node-postgres and answers one request at a time. The main thread blocks on `signal` until the
 * reply is posted, as it blocks on better-sqlite3, so the repositories keep one synchronous
 * interface for both backends. Plain CommonJS, because a worker cannot load TypeScript on Node 20.
 */
const { workerData } = require('node:worker_threads');

const { pgPath, connection, port, signal } = workerData;
const pg = require(pgPath);

// int8 columns hold ms timestamps, seqs and counts, all below 2^53: numbers, as better-sqlite3 gives.
const types = {
  getTypeParser(oid, format) {
    if (oid === 20 && format !== 'binary') return (value) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
};

const flag = new Int32Array(signal);
// The URL's fields first, then the explicit ones: node-postgres lets the URL win (a password from a
// file would be dropped for the URL's missing one).
const { parse } = require(require.resolve('pg-connection-string', { paths: [pgPath] }));
const { connectionString, ...explicit } = connection;
const pool = new pg.Pool({ ...parse(connectionString), ...explicit, max: 1, types });
// An idle client's error (server restarted, connection cut): the pool drops it, the next query reconnects.
pool.on('error', () => {});

/** The client an open transaction holds; queries go to it until COMMIT or ROLLBACK. */
let transaction;

async function query(sql, params) {
  const result = await (transaction ?? pool).query({ text: sql, values: params, types });
  return { rows: result.rows ?? [], rowCount: result.rowCount ?? 0 };
}

async function handle(request) {
  switch (request.op) {
    case 'query':
      return query(request.sql, request.params);
    case 'exec':
      // The simple protocol: several statements, no parameters (schema migrations).
      await (transaction ?? pool).query(request.sql);
      return { rows: [], rowCount: 0 };
    case 'batch': {
      // Statements whose results nobody reads, sent in one round trip from the main thread.
      let rowCount = 0;
      for (const statement of request.statements) rowCount += (await query(statement.sql, statement.params)).rowCount;
      return { rows: [], rowCount };
    }
    case 'begin': {
      if (transaction) throw new Error('a transaction is already open');
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
      } catch (error) {
        client.release(error);
        throw error;
      }
      transaction = client;
      return { rows: [], rowCount: 0 };
    }
    case 'commit':
    case 'rollback': {
      const client = transaction;
      if (!client) throw new Error(`${request.op} without a transaction`);
      transaction = undefined;
      try {
        await client.query(request.op === 'commit' ? 'COMMIT' : 'ROLLBACK');
        client.release();
      } catch (error) {
        // A connection that failed mid-transaction is not given back to the pool.
        client.release(error);
        throw error;
      }
      return { rows: [], rowCount: 0 };
    }
    case 'end':
      if (transaction) transaction.release(new Error('closed'));
      transaction = undefined;
      await pool.end();
      return { rows: [], rowCount: 0 };
    default:
      throw new Error(`unknown bridge request ${String(request.op)}`);
  }
}

function errorReply(error) {
  const e = error instanceof Error ? error : new Error(String(error));
  // Only what names the failure: SQLSTATE, message, constraint. Never the connection settings.
  return { ok: false, error: { message: e.message, code: e.code, constraint: e.constraint, detail: e.detail } };
}

port.on('message', async (request) => {
  let reply;
  try {
    reply = { id: request.id, ok: true, value: await handle(request) };
  } catch (error) {
    reply = { id: request.id, ...errorReply(error) };
  }
  port.postMessage(reply);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
