/**
 * What a store tells the other aggregators sharing its database (several aggregators on one
 * PostgreSQL, cluster/cluster-node.ts). `hostsWritten` is called inside the transaction that writes
 * the hosts, so the signal is delivered exactly when (and only if) the writes commit; the others are
 * called right after their write committed. One aggregator on its own file signals nothing.
 */
export interface StoreSignals {
  /** Hosts whose rows (facts, seq, token, environment, retirement) this transaction writes. */
  hostsWritten(hostIds: Iterable<string>): void;
  /** Exceptions were created, deleted, replaced or expired; the environments they name. */
  exceptionsChanged(environments: readonly string[]): void;
  /** A drift pass was written (events opened, updated or resolved). */
  driftWritten(): void;
  /** Pending enrollments or token rotations changed. */
  admissionChanged(): void;
}

export const NO_STORE_SIGNALS: StoreSignals = {
  hostsWritten: () => {},
  exceptionsChanged: () => {},
  driftWritten: () => {},
  admissionChanged: () => {},
};
