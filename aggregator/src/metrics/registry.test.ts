import { describe, expect, it } from 'vitest';
import { Counter, Gauge, Histogram, Registry } from './registry.js';

describe('Prometheus registry', () => {
  it('renders counters, gauges and histograms in the text format', () => {
    const registry = new Registry();
    const counter = registry.register(new Counter<'type'>('x_total', 'Things.'));
    counter.inc({ type: 'a"b' });
    counter.inc({ type: 'a"b' }, 2);
    registry.register(new Gauge('x_live', 'Live things.', () => 7));
    const histogram = registry.register(new Histogram('x_seconds', 'Durations.', [0.1, 1]));
    histogram.observe(0.05);
    histogram.observe(0.5);
    histogram.observe(5);
    expect(registry.render()).toBe(
      [
        '# HELP x_total Things.',
        '# TYPE x_total counter',
        'x_total{type="a\\"b"} 3',
        '# HELP x_live Live things.',
        '# TYPE x_live gauge',
        'x_live 7',
        '# HELP x_seconds Durations.',
        '# TYPE x_seconds histogram',
        'x_seconds_bucket{le="0.1"} 1',
        'x_seconds_bucket{le="1"} 2',
        'x_seconds_bucket{le="+Inf"} 3',
        'x_seconds_sum 5.55',
        'x_seconds_count 3',
        '',
      ].join('\n'),
    );
  });

  it('refuses a name registered twice', () => {
    const registry = new Registry();
    registry.register(new Gauge('g', 'g'));
    expect(() => registry.register(new Gauge('g', 'g'))).toThrow(/twice/);
  });
});
