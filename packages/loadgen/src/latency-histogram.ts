/**
 * A fixed-bucket latency histogram (log scale, 0.1 ms .. ~2 min, ~6% relative error): constant
 * memory whatever the sample count, snapshots that subtract (to isolate a time window) and
 * quantiles that interpolate inside a bucket, like Prometheus' histogram_quantile.
 */

/** Upper bounds in milliseconds; the last bucket is open (+Inf). */
export const LATENCY_BOUNDS_MS: readonly number[] = (() => {
  const bounds: number[] = [];
  for (let b = 0.1; b < 120_000; b *= 1.12) bounds.push(Math.round(b * 1000) / 1000);
  return bounds;
})();

export interface HistogramSnapshot {
  /** counts[i] = samples <= LATENCY_BOUNDS_MS[i] and above the previous bound; last = overflow. */
  counts: number[];
  count: number;
  sumMs: number;
  maxMs: number;
}

export interface LatencyHistogram {
  record(ms: number): void;
  snapshot(): HistogramSnapshot;
}

export function createLatencyHistogram(): LatencyHistogram {
  const counts = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
  let count = 0;
  let sumMs = 0;
  let maxMs = 0;
  return {
    record(ms) {
      let lo = 0;
      let hi = LATENCY_BOUNDS_MS.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((LATENCY_BOUNDS_MS[mid] as number) < ms) lo = mid + 1;
        else hi = mid;
      }
      counts[lo] = (counts[lo] ?? 0) + 1;
      count++;
      sumMs += ms;
      if (ms > maxMs) maxMs = ms;
    },
    snapshot: () => ({ counts: [...counts], count, sumMs, maxMs }),
  };
}

/** `later - earlier`: the samples recorded between two snapshots (max is the later one's). */
export function subtractSnapshots(later: HistogramSnapshot, earlier: HistogramSnapshot): HistogramSnapshot {
  return {
    counts: later.counts.map((c, i) => c - (earlier.counts[i] ?? 0)),
    count: later.count - earlier.count,
    sumMs: later.sumMs - earlier.sumMs,
    maxMs: later.maxMs,
  };
}

/** The q-quantile (0..1) in ms, interpolated within its bucket; undefined without samples. */
export function snapshotQuantile(snapshot: HistogramSnapshot, q: number): number | undefined {
  if (snapshot.count <= 0) return undefined;
  const rank = q * snapshot.count;
  let seen = 0;
  for (let i = 0; i < snapshot.counts.length; i++) {
    const c = snapshot.counts[i] ?? 0;
    if (c > 0 && seen + c >= rank) {
      const lower = i === 0 ? 0 : (LATENCY_BOUNDS_MS[i - 1] as number);
      const upper = LATENCY_BOUNDS_MS[i] ?? snapshot.maxMs;
      return Math.min(snapshot.maxMs, lower + (upper - lower) * ((rank - seen) / c));
    }
    seen += c;
  }
  return snapshot.maxMs;
}
