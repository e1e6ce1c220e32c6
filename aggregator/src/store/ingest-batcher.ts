/**
 * The ingest batcher: writes wait in a queue and commit together, one transaction per batch, each
 * write in its own savepoint (a bad report rolls back alone). A batch stops taking writes when its
 * time budget is spent, so a burst never holds the event loop for long; the rest follows at once,
 * in the next batch. Callers get their own typed result once the batch has committed, never before.
 *
 * The batcher knows nothing of hosts or SQL: the store hands it a `BatchWork` (how to start,
 * finish, commit or forget a batch) and each write as a function of the batch.
 */

/** What a write did inside its savepoint: its result, and an event to emit once committed. */
export interface Applied<TResult, TEvent> {
  result: TResult;
  event?: TEvent;
  /** Runs after the commit, before the caller gets the result. */
  afterCommit?: () => void;
}

/** The store's side of a batch. */
export interface BatchWork<TBatch, TEvent> {
  /** Runs `fn` in one transaction (commits if it returns, rolls back if it throws). */
  transaction(fn: () => void): void;
  /** Runs `fn` in a savepoint of the open transaction. */
  savepoint<T>(fn: () => T): T;
  /** Work of the store's own waiting for the next batch even without writes (last-seen times). */
  pending(): boolean;
  /** A new, empty batch over the committed state. */
  begin(): TBatch;
  /** Inside the transaction, after the writes: what the batch as a whole writes. */
  finish(batch: TBatch): void;
  /** After the commit: the batch becomes the committed state. */
  committed(batch: TBatch): void;
  /** The commit failed: nothing of the batch is kept. */
  failed(batch: TBatch): void;
  /** How many hosts the batch changed (the per-host rest of its cost counts against the budget). */
  changedHosts(batch: TBatch): number;
  /** Turns an error thrown by a write into what its caller is told. */
  writeError(error: unknown, what: string): Error;
  commitError(error: unknown): Error;
  emit(event: TEvent): void;
}

export interface IngestBatcherOptions {
  /** Longest time a write waits before its batch commits. */
  intervalMs: number;
  /** A queue of this many writes commits at once. */
  maxWrites: number;
  /** Work one batch may do before it commits and lets the event loop run. */
  budgetMs: number;
}

interface QueuedWrite<TBatch, TEvent> {
  what: string;
  /** Applies the write; returns how to answer its caller once the batch has committed. */
  apply(batch: TBatch): { settle(): void; event?: TEvent };
  reject(error: unknown): void;
}

export class IngestBatcher<TBatch, TEvent> {
  readonly #work: BatchWork<TBatch, TEvent>;
  readonly #options: IngestBatcherOptions;
  #queue: QueuedWrite<TBatch, TEvent>[] = [];
  #timer: NodeJS.Timeout | undefined;
  #timerDue = Number.POSITIVE_INFINITY;
  /** Moving average of what follows the writes (commit, answers, events), per changed host. */
  #afterWritesMsPerHost = 0;

  constructor(work: BatchWork<TBatch, TEvent>, options: IngestBatcherOptions) {
    this.#work = work;
    this.#options = options;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Queues a write. `delayMs`: how long it may wait (default the interval; a full queue commits
   * at once). Resolves with the write's result after its batch commits.
   */
  enqueue<TResult>(
    what: string,
    apply: (batch: TBatch) => Applied<TResult, TEvent>,
    delayMs = this.#options.intervalMs,
  ): Promise<TResult> {
    return new Promise<TResult>((resolve, reject) => {
      this.#queue.push({
        what,
        apply: (batch) => {
          const { result, event, afterCommit } = apply(batch);
          const settle = () => {
            afterCommit?.();
            resolve(result);
          };
          return { settle, ...(event !== undefined ? { event } : {}) };
        },
        reject,
      });
      this.schedule(this.#queue.length >= this.#options.maxWrites ? 0 : delayMs);
    });
  }

  /** Arms the flush timer for `delayMs` from now, unless it is already due sooner. */
  schedule(delayMs: number): void {
    const due = Date.now() + delayMs;
    if (this.#timer && this.#timerDue <= due) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timerDue = due;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerDue = Number.POSITIVE_INFINITY;
      this.flush();
    }, delayMs);
    this.#timer.unref();
  }

  /** Stops the timer (the store is closing; it flushes what is left itself). */
  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerDue = Number.POSITIVE_INFINITY;
  }

  /** Commits one batch now: as many queued writes as `budgetMs` allows (at least one). */
  flush(budgetMs = this.#options.budgetMs): void {
    this.stop();
    const queue = this.#queue;
    const work = this.#work;
    if (queue.length === 0 && !work.pending()) return;
    const batch = work.begin();
    const outcomes: ({ ok: true; settle(): void; event?: TEvent } | { ok: false; error: unknown })[] = [];
    const started = performance.now();
    let written = started;
    let taken = 0;
    // The budget covers what follows the writes too (commit, answers, events): the profile of a
    // 1,000-host storm showed it as long again as the writes themselves.
    const withinBudget = () =>
      performance.now() - started + work.changedHosts(batch) * this.#afterWritesMsPerHost < budgetMs;
    try {
      work.transaction(() => {
        while (taken < queue.length && (taken === 0 || withinBudget())) {
          const write = queue[taken++] as QueuedWrite<TBatch, TEvent>;
          try {
            outcomes.push({ ok: true, ...work.savepoint(() => write.apply(batch)) });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
        written = performance.now();
        work.finish(batch);
      });
    } catch (cause) {
      work.failed(batch);
      const error = work.commitError(cause);
      const failed = queue.slice(0, taken);
      this.#queue = queue.slice(taken);
      for (const write of failed) write.reject(error);
      if (this.#queue.length > 0) this.schedule(0);
      return;
    }
    const writes = queue.slice(0, taken);
    this.#queue = queue.slice(taken);
    if (this.#queue.length > 0) this.schedule(0);
    work.committed(batch);
    const events: TEvent[] = [];
    writes.forEach((write, index) => {
      const outcome = outcomes[index];
      if (!outcome) return;
      if (outcome.ok) {
        outcome.settle();
        if (outcome.event !== undefined) events.push(outcome.event);
      } else write.reject(work.writeError(outcome.error, write.what));
    });
    for (const event of events) work.emit(event);
    const changed = work.changedHosts(batch);
    if (changed > 0) {
      // A moving average: one odd batch (a GC pause) does not swing the next budgets much.
      const perHost = (performance.now() - written) / changed;
      this.#afterWritesMsPerHost = 0.8 * this.#afterWritesMsPerHost + 0.2 * perHost;
    }
  }
}
