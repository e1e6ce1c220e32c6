/**
 * A minimal Prometheus registry: counters, gauges (set or computed at scrape time) and histograms,
 * rendered in the text exposition format 0.0.4. Small enough to own instead of adding a dependency,
 * and label sets are bounded by construction (message types, close reasons), never host ids.
 */

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

type Labels = Record<string, string>;

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([key, value]) => `${key}="${escapeLabelValue(value)}"`).join(',')}}`;
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

interface Metric {
  readonly name: string;
  render(): string;
}

function header(name: string, help: string, type: string): string {
  return `# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${name} ${type}\n`;
}

/** A monotonically increasing count per label set. */
export class Counter<L extends string = never> implements Metric {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    private readonly help: string,
  ) {}

  inc(labels: Record<L, string> = {} as Record<L, string>, by = 1): void {
    const key = formatLabels(labels);
    const entry = this.values.get(key);
    if (entry) entry.value += by;
    else this.values.set(key, { labels: { ...labels }, value: by });
  }

  /** Makes a label set visible at 0 before its first event, so rates and alerts work from the start. */
  init(labels: Record<L, string>): void {
    this.inc(labels, 0);
  }

  get(labels: Record<L, string> = {} as Record<L, string>): number {
    return this.values.get(formatLabels(labels))?.value ?? 0;
  }

  render(): string {
    let out = header(this.name, this.help, 'counter');
    for (const { labels, value } of this.values.values())
      out += `${this.name}${formatLabels(labels)} ${formatNumber(value)}\n`;
    return out;
  }
}

/** A value that goes up and down; `collect` computes it at scrape time (e.g. file sizes). */
export class Gauge implements Metric {
  private value = 0;
  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly collect?: () => number,
  ) {}

  set(value: number): void {
    this.value = value;
  }

  get(): number {
    return this.collect ? this.collect() : this.value;
  }

  render(): string {
    return `${header(this.name, this.help, 'gauge')}${this.name} ${formatNumber(this.get())}\n`;
  }
}

/** Observations counted into cumulative buckets, with their sum and count. */
export class Histogram implements Metric {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;
  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly buckets: readonly number[],
  ) {
    this.counts = buckets.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) {
      if (value <= (this.buckets[i] as number)) this.counts[i] = (this.counts[i] as number) + 1;
    }
  }

  get observations(): number {
    return this.count;
  }

  render(): string {
    let out = header(this.name, this.help, 'histogram');
    this.buckets.forEach((bound, i) => {
      out += `${this.name}_bucket{le="${formatNumber(bound)}"} ${this.counts[i]}\n`;
    });
    out += `${this.name}_bucket{le="+Inf"} ${this.count}\n`;
    out += `${this.name}_sum ${formatNumber(this.sum)}\n${this.name}_count ${this.count}\n`;
    return out;
  }
}

/** Holds metrics in registration order and renders them together. */
export class Registry {
  private readonly metrics: Metric[] = [];

  register<M extends Metric>(metric: M): M {
    if (this.metrics.some((m) => m.name === metric.name)) throw new Error(`metric ${metric.name} registered twice`);
    this.metrics.push(metric);
    return metric;
  }

  render(): string {
    return this.metrics.map((metric) => metric.render()).join('');
  }
}
