/**
 * A promise chain that runs async sections one at a time: the spool, the acknowledged state and
 * the sequence counter change only inside it, so a report, an ack and a compaction never interleave.
 */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();

  run<T>(section: () => Promise<T> | T): Promise<T> {
    const result = this.tail.then(section);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Resolves when every section queued so far has finished. */
  idle(): Promise<void> {
    return this.tail;
  }
}
