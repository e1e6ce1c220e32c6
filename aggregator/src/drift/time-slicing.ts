/**
 * Cooperative time slicing for the drift pass. Evaluation is written as synchronous generators
 * that only say where they could stop (`yield 'step'` after a unit of work, `yield 'turn'` between
 * environments and pairs); the pass runner decides when to let the event loop in. The evaluation
 * thus stays free of timers and awaits (tests run it to the end synchronously), while a pass over
 * 10,000 hosts never holds the loop for more than a slice: sockets and HTTP requests get through.
 */

/** A point where sliced work may stop: `step` once the slice is used up, `turn` always. */
export type SlicePoint = 'step' | 'turn';

/** Work that runs to its result `T`, stopping only where it yields. */
export type Sliced<T> = Generator<SlicePoint, T, void>;

/** Work between two yields to the event loop. */
export const SLICE_MS = 12;

/** Lets sockets, timers and HTTP requests through. */
export const yieldToEventLoop = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

/** Runs sliced work, yielding to the event loop at every `turn` and at the first `step` past each slice. */
export async function runSliced<T>(work: Sliced<T>, sliceMs = SLICE_MS): Promise<T> {
  let sliceStart = performance.now();
  for (let next = work.next(); ; next = work.next()) {
    if (next.done) return next.value;
    if (next.value === 'turn' || performance.now() - sliceStart > sliceMs) {
      await yieldToEventLoop();
      sliceStart = performance.now();
    }
  }
}

/** Runs sliced work to its end without ever yielding (tests, small inputs). */
export function runToEnd<T>(work: Sliced<T>): T {
  for (let next = work.next(); ; next = work.next()) if (next.done) return next.value;
}
