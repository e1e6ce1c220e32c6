/**
 * Just enough of the Prometheus text format to read the aggregator's /metrics in a benchmark:
 * samples with labels, histograms assembled from their `_bucket`/`_sum`/`_count` series, window
 * differences and histogram_quantile-style interpolation.
 */

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parsePrometheusText(text: string): PromSample[] {
  const samples: PromSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(LABEL)) {
      labels[label[1] as string] = (label[2] as string).replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c));
    }
    const valueText = match[3] as string;
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
    samples.push({ name: match[1] as string, labels, value });
  }
  return samples;
}

type LabelFilter = Record<string, string>;
const matches = (labels: Record<string, string>, filter: LabelFilter) =>
  Object.entries(filter).every(([k, v]) => labels[k] === v);

/** Sum of every sample of `name` whose labels include `filter`; undefined when there is none. */
export function sumSamples(samples: readonly PromSample[], name: string, filter: LabelFilter = {}): number | undefined {
  let total: number | undefined;
  for (const s of samples) {
    if (s.name === name && matches(s.labels, filter)) total = (total ?? 0) + s.value;
  }
  return total;
}

/** Cumulative buckets (upper bound -> count) plus sum and count, summed over matching series. */
export interface PromHistogram {
  buckets: { le: number; count: number }[];
  sum: number;
  count: number;
}

export function promHistogram(
  samples: readonly PromSample[],
  name: string,
  filter: LabelFilter = {},
): PromHistogram | undefined {
  const byLe = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== `${name}_bucket` || !matches(s.labels, filter) || s.labels.le === undefined) continue;
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  if (byLe.size === 0) return undefined;
  const buckets = [...byLe.entries()].sort((a, b) => a[0] - b[0]).map(([le, count]) => ({ le, count }));
  return {
    buckets,
    sum: sumSamples(samples, `${name}_sum`, filter) ?? 0,
    count: sumSamples(samples, `${name}_count`, filter) ?? buckets.at(-1)?.count ?? 0,
  };
}

/** `later - earlier` bucket by bucket: the observations of a time window. */
export function subtractPromHistograms(later: PromHistogram, earlier: PromHistogram | undefined): PromHistogram {
  if (!earlier) return later;
  const before = new Map(earlier.buckets.map((b) => [b.le, b.count]));
  return {
    buckets: later.buckets.map((b) => ({ le: b.le, count: b.count - (before.get(b.le) ?? 0) })),
    sum: later.sum - earlier.sum,
    count: later.count - earlier.count,
  };
}

/** Like PromQL's histogram_quantile: linear inside the bucket; undefined without observations. */
export function promQuantile(histogram: PromHistogram, q: number): number | undefined {
  const total = histogram.buckets.at(-1)?.count ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let previousLe = 0;
  let previousCount = 0;
  for (const { le, count } of histogram.buckets) {
    if (count >= rank) {
      if (le === Infinity) return previousLe;
      const inBucket = count - previousCount;
      return inBucket <= 0 ? le : previousLe + (le - previousLe) * ((rank - previousCount) / inBucket);
    }
    previousLe = le;
    previousCount = count;
  }
  return previousLe;
}
