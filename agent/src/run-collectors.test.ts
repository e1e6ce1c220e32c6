import { validateAgentConfig } from '@envparity/shared';
import { describe, expect, it } from 'vitest';
import type { Collector } from './collectors/types.js';
import { mergeCollectorResults, runCollectors } from './run-collectors.js';
import { createSecretHasher } from './secrets.js';

const config = validateAgentConfig({});
const secrets = createSecretHasher('k', []);

describe('runCollectors', () => {
  it('returns each successful collector its own valid facts, the merge, and failures by name', async () => {
    const collectors: Collector[] = [
      { name: 'os', collect: async () => ({ 'os.release': '12', 'bogus path!': 1, 'nocategory.x': 2 }) },
      { name: 'runtime', collect: async () => ({ 'runtime.node': '20.1.0' }) },
      {
        name: 'hardware',
        collect: async () => {
          throw new Error('no /sys');
        },
      },
      { name: 'network', timeoutMs: 50, collect: () => new Promise(() => {}) },
    ];
    const result = await runCollectors(collectors, { config, secrets });
    const merged = mergeCollectorResults(result.collectors);
    expect(merged.facts).toEqual({ 'os.release': '12', 'runtime.node': '20.1.0' });
    const byName = new Map(result.collectors.map((entry) => [entry.name, entry]));
    expect(result.collectors.map((entry) => entry.name)).toEqual(['os', 'runtime', 'hardware', 'network']);
    expect(
      result.collectors
        .filter((entry) => entry.facts)
        .map((entry) => entry.name)
        .sort(),
    ).toEqual(['os', 'runtime']);
    expect(byName.get('os')?.facts).toEqual({ 'os.release': '12' });
    expect(byName.get('runtime')?.facts).toEqual({ 'runtime.node': '20.1.0' });
    expect(byName.get('hardware')).toMatchObject({ facts: undefined, error: 'no /sys' });
    expect(byName.get('network')).toMatchObject({ facts: undefined, timedOut: true });
    const reports = new Map(merged.collectors.map((report) => [report.name, report]));
    expect(reports.get('os')).toMatchObject({ facts: 1, error: expect.stringContaining('dropped 2 fact(s)') });
    expect(reports.get('hardware')).toMatchObject({ facts: 0, error: 'no /sys' });
    expect(reports.get('network')).toMatchObject({ facts: 0, timedOut: true });
    expect(merged.errors.map((error) => error.collector).sort()).toEqual(['hardware', 'network', 'os']);
  });

  it('merges in collector order: partial failures first, then failures; a later collector wins a shared path', async () => {
    const collectors: Collector[] = [
      {
        name: 'probe',
        collect: async (context) => {
          context.reportError?.('probe a failed');
          return { 'probe.x': 1, 'probe.shared': 'first' };
        },
      },
      {
        name: 'config',
        collect: async (context) => {
          context.reportError?.('one file unreadable');
          throw new Error('config broke');
        },
      },
      { name: 'app', collect: async () => ({ 'probe.shared': 'second', 'app.y': 2 }) },
    ];
    const result = await runCollectors(collectors, { config, secrets });
    expect(result.collectors.map((entry) => entry.partialErrors)).toEqual([
      ['probe a failed'],
      ['one file unreadable'],
      [],
    ]);
    const merged = mergeCollectorResults(result.collectors);
    expect(merged.facts).toEqual({ 'probe.x': 1, 'probe.shared': 'second', 'app.y': 2 });
    expect(Object.keys(merged.facts)).toEqual(['probe.x', 'probe.shared', 'app.y']);
    expect(merged.errors).toEqual([
      { collector: 'probe', message: 'probe a failed' },
      { collector: 'config', message: 'one file unreadable' },
      { collector: 'config', message: 'config broke' },
    ]);
    expect(merged.collectors.map(({ name, facts }) => ({ name, facts }))).toEqual([
      { name: 'probe', facts: 2 },
      { name: 'config', facts: 0 },
      { name: 'app', facts: 2 },
    ]);
  });

  it('skips disabled collectors entirely', async () => {
    const disabled = validateAgentConfig({ disable: ['runtime'] });
    const result = await runCollectors(
      [
        { name: 'os', collect: async () => ({ 'os.a': 1 }) },
        { name: 'runtime', collect: async () => ({ 'runtime.b': 2 }) },
      ],
      { config: disabled, secrets },
    );
    expect(result.collectors.map((entry) => entry.name)).toEqual(['os']);
  });
});
