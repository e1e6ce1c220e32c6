import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@envparity/shared';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_HEARTBEAT_SECONDS,
  DEFAULT_PORT,
  loadAggregatorConfig,
  parseAggregatorConfig,
  resolveServeConfig,
} from './config.js';

function keyOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.key;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('aggregator config', () => {
  it('parses YAML with every key', () => {
    const config = parseAggregatorConfig(`
host: 0.0.0.0
port: 7400
data: /var/lib/envparity-aggregator
logLevel: debug
heartbeatSeconds: 15
promotion: [dev, staging, production]
classes:
  - { glob: "probe.**.rows", class: behavior }
webhooks:
  - { url: "https://hooks.example.com/x", secret: s, events: [drift.opened] }
rateLimit: { perSecond: 10, burst: 20 }
`);
    expect(config).toMatchObject({ host: '0.0.0.0', port: 7400, promotion: ['dev', 'staging', 'production'] });
  });

  it('reads JSON too', () => {
    expect(parseAggregatorConfig('{"port": 0}')).toEqual({ port: 0 });
  });

  it('names the offending key', () => {
    expect(keyOf(() => parseAggregatorConfig('prot: 1'))).toBe('prot');
    expect(keyOf(() => parseAggregatorConfig('port: 99999'))).toBe('port');
    expect(keyOf(() => parseAggregatorConfig('classes: [{ glob: "os.*", class: weird }]'))).toBe('classes.0.class');
    expect(keyOf(() => parseAggregatorConfig('classes: [{ glob: "os..x", class: scale }]'))).toBe('classes.0.glob');
    expect(keyOf(() => parseAggregatorConfig('rateLimit: { perSecond: 1, burst: 2, extra: 3 }'))).toBe(
      'rateLimit.extra',
    );
    expect(keyOf(() => parseAggregatorConfig('secretPolicy: [{ glob: "config..x", expect: differ }]'))).toBe(
      'secretPolicy.0.glob',
    );
    expect(keyOf(() => parseAggregatorConfig('secretPolicy: [{ glob: "config.env.X", expect: same }]'))).toBe(
      'secretPolicy.0.expect',
    );
    expect(() => parseAggregatorConfig('prot: 1')).toThrow(/prot: unknown key/);
    expect(() => parseAggregatorConfig('- 1')).toThrow(/mapping/);
    expect(() => parseAggregatorConfig('a: [')).toThrow(/not valid YAML/);
  });

  it('validates comparePairs: environment names, no self-pairs, no duplicates in either order', () => {
    expect(parseAggregatorConfig('comparePairs: [[pr-1, staging], [pr-2, staging]]')).toEqual({
      comparePairs: [
        ['pr-1', 'staging'],
        ['pr-2', 'staging'],
      ],
    });
    expect(resolveServeConfig()).toMatchObject({ comparePairs: [] });
    expect(keyOf(() => parseAggregatorConfig('comparePairs: [[staging, staging]]'))).toBe('comparePairs');
    expect(keyOf(() => parseAggregatorConfig('comparePairs: [[a, b], [b, a]]'))).toBe('comparePairs');
    expect(keyOf(() => parseAggregatorConfig('comparePairs: [[a]]'))).toMatch(/^comparePairs\.0/);
    expect(keyOf(() => parseAggregatorConfig('comparePairs: [["bad name!", b]]'))).toBe('comparePairs.0.0');
  });

  it('lets flags override the file, and fills defaults', () => {
    const config = resolveServeConfig(
      { port: 7400, host: '0.0.0.0', heartbeatSeconds: 5 },
      { port: 0, host: undefined },
    );
    expect(config).toMatchObject({ port: 0, host: '0.0.0.0', heartbeatSeconds: 5, logLevel: 'info' });
    expect(resolveServeConfig()).toMatchObject({ port: DEFAULT_PORT, heartbeatSeconds: DEFAULT_HEARTBEAT_SECONDS });
  });

  it('reads `retention.changes` as a duration (default 400 days, at least a day), naming the key when bad', () => {
    expect(resolveServeConfig().retention).toEqual({ changesSeconds: 400 * 86_400 });
    expect(resolveServeConfig(parseAggregatorConfig('retention: { changes: 90d }')).retention).toEqual({
      changesSeconds: 90 * 86_400,
    });
    expect(resolveServeConfig(parseAggregatorConfig('retention: { changes: 2w }')).retention.changesSeconds).toBe(
      14 * 86_400,
    );
    expect(keyOf(() => parseAggregatorConfig('retention: { changes: 12h }'))).toBe('retention.changes');
    expect(() => parseAggregatorConfig('retention: { changes: 12h }')).toThrow(/at least 1d/);
    expect(keyOf(() => parseAggregatorConfig('retention: { changes: forever }'))).toBe('retention.changes');
    expect(keyOf(() => parseAggregatorConfig('retention: { events: 30d }'))).toBe('retention.events');
  });

  it('reports an unreadable file as a config error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'envparity-config-'));
    try {
      const file = join(dir, 'aggregator.yaml');
      writeFileSync(file, 'port: 7301\n');
      expect(await loadAggregatorConfig(file)).toEqual({ port: 7301 });
      await expect(loadAggregatorConfig(join(dir, 'missing.yaml'))).rejects.toBeInstanceOf(ConfigError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
