import { describe, expect, it } from 'vitest';
import { type BatchWork, IngestBatcher } from './ingest-batcher.js';

/** A batch is a list of writes; "committed" is what the store would hold. */
interface FakeBatch {
  writes: string[];
  changed: number;
}

function fakeWork(options: { failCommit?: () => boolean } = {}) {
  const log: string[] = [];
  const committed: string[] = [];
  const events: string[] = [];
  const work: BatchWork<FakeBatch, string> = {
    transaction(fn) {
      log.push('begin');
      fn();
      if (options.failCommit?.()) {
        log.push('rollback');
        throw new Error('disk full');
      }
      log.push('commit');
    },
    savepoint(fn) {
      // A write that throws leaves nothing in the batch (as a savepoint rollback would).
      return fn();
    },
    pending: () => false,
    begin: () => ({ writes: [], changed: 0 }),
    finish: (batch) => log.push(`finish ${batch.writes.length}`),
    committed: (batch) => committed.push(...batch.writes),
    failed: (batch) => log.push(`failed ${batch.writes.length}`),
    changedHosts: (batch) => batch.changed,
    writeError: (error, what) => new Error(`${what}: ${(error as Error).message}`),
    commitError: (cause) => new Error(`commit failed: ${(cause as Error).message}`),
    emit: (event) => events.push(event),
  };
  return { work, log, committed, events };
}

const options = { intervalMs: 5, maxWrites: 100, budgetMs: 1000 };

describe('IngestBatcher', () => {
  it('commits queued writes in one transaction and answers each with its own result, after the commit', async () => {
    const { work, log, committed, events } = fakeWork();
    const batcher = new IngestBatcher(work, options);
    const order: string[] = [];
    const a = batcher.enqueue('write a', (batch) => {
      batch.writes.push('a');
      return { result: 1, event: 'a-event', afterCommit: () => order.push('after a') };
    });
    const b = batcher.enqueue('write b', (batch) => {
      batch.writes.push('b');
      return { result: { name: 'b' } };
    });
    const resolvedA = a.then((result) => {
      order.push('resolved a');
      return result;
    });
    const [resultA, resultB] = await Promise.all([resolvedA, b]);
    expect(resultA).toBe(1);
    expect(resultB).toEqual({ name: 'b' });
    expect(log).toEqual(['begin', 'finish 2', 'commit']);
    expect(committed).toEqual(['a', 'b']);
    expect(events).toEqual(['a-event']);
    expect(order).toEqual(['after a', 'resolved a']);
  });

  it('rejects only the write that throws, naming it; the others commit', async () => {
    const { work, committed } = fakeWork();
    const batcher = new IngestBatcher(work, options);
    const good = batcher.enqueue('write good', (batch) => {
      batch.writes.push('good');
      return { result: 'ok' };
    });
    const bad = batcher.enqueue('cannot store report', () => {
      throw new Error('path of category "os"');
    });
    await expect(good).resolves.toBe('ok');
    await expect(bad).rejects.toThrow('cannot store report: path of category "os"');
    expect(committed).toEqual(['good']);
  });

  it('a failed commit rejects every write of the batch, keeps none, and later writes still go through', async () => {
    let failNext = true;
    const { work, log, committed, events } = fakeWork({
      failCommit: () => {
        const fail = failNext;
        failNext = false;
        return fail;
      },
    });
    const batcher = new IngestBatcher(work, options);
    const first = batcher.enqueue('w1', (batch) => {
      batch.writes.push('w1');
      return { result: 1, event: 'e1' };
    });
    await expect(first).rejects.toThrow('commit failed: disk full');
    expect(log).toContain('failed 1');
    expect(committed).toEqual([]);
    expect(events).toEqual([]);
    const second = batcher.enqueue('w2', (batch) => {
      batch.writes.push('w2');
      return { result: 2 };
    });
    await expect(second).resolves.toBe(2);
    expect(committed).toEqual(['w2']);
  });

  it('stops taking writes when the budget is spent and commits the rest in the next batch', async () => {
    const { work, log } = fakeWork();
    const batcher = new IngestBatcher(work, { ...options, budgetMs: 5 });
    const slow = (name: string) =>
      batcher.enqueue(name, (batch) => {
        const until = performance.now() + 8;
        while (performance.now() < until) {
          // busy: each write alone spends more than the budget
        }
        batch.writes.push(name);
        return { result: name };
      });
    await expect(Promise.all([slow('x'), slow('y'), slow('z')])).resolves.toEqual(['x', 'y', 'z']);
    // At least one write per batch, and never all three in one.
    expect(log.filter((line) => line === 'commit')).toHaveLength(3);
  });

  it('flush() with an unbounded budget takes everything queued at once', () => {
    const { work, log } = fakeWork();
    const batcher = new IngestBatcher(work, { ...options, budgetMs: 0 });
    for (const name of ['a', 'b', 'c']) {
      void batcher.enqueue(name, (batch) => {
        batch.writes.push(name);
        return { result: name };
      });
    }
    batcher.flush(Number.POSITIVE_INFINITY);
    expect(log).toEqual(['begin', 'finish 3', 'commit']);
    expect(batcher.queued).toBe(0);
  });
});
