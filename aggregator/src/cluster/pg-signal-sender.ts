/**
 * The store's signals (../store/store-signals.ts) as NOTIFY on the aggregators' channel, sent on the
 * store's own connection: inside a transaction NOTIFY is delivered at its commit (never for a
 * rolled-back one), and costs no round trip of its own (deferred with the batch's writes).
 */
import type { PgBridge } from '../store/postgres/pg-bridge.js';
import type { StoreSignals } from '../store/store-signals.js';
import { CLUSTER_CHANNEL, type ClusterSignal, encodeSignal } from './cluster-signals.js';

export class PgSignalSender implements StoreSignals {
  constructor(
    private readonly db: PgBridge,
    /** This aggregator's node id: receivers skip their own signals. */
    private readonly nodeId: string,
  ) {}

  send(signal: ClusterSignal): void {
    for (const payload of encodeSignal(this.nodeId, signal)) {
      this.db.write('SELECT pg_notify($1, $2)', [CLUSTER_CHANNEL, payload]);
    }
  }

  hostsWritten(hostIds: Iterable<string>): void {
    const hosts = [...new Set(hostIds)];
    if (hosts.length > 0) this.send({ kind: 'hosts', hosts });
  }

  exceptionsChanged(environments: readonly string[]): void {
    this.send({ kind: 'exceptions', environments: [...environments] });
  }

  driftWritten(): void {
    this.send({ kind: 'drift' });
  }

  admissionChanged(): void {
    this.send({ kind: 'admission' });
  }
}
