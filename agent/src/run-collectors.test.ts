import { validateAgentConfig } from '@envparity/shared';
import { describe, expect, it } from 'vitest';
import type { Collector } from './collectors/types.js';
import { runCollectors } from './run-collectors.js';
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
    expect(result.facts).toEqual({ 'os.release': '12', 'runtime.node': '20.1.0' });
    expect([...result.byCollector.keys()].sort()).toEqual(['os', 'runtime']);
    expect(result.byCollector.get('os')).toEqual({ 'os.release': '12' });
    expect(result.byCollector.get('runtime')).toEqual({ 'runtime.node': '20.1.0' });
    const byName = new Map(result.collectors.map((report) => [report.name, report]));
    expect(byName.get('os')).toMatchObject({ facts: 1, error: expect.stringContaining('dropped 2 fact(s)') });
    expect(byName.get('hardware')).toMatchObject({ facts: 0, error: 'no /sys' });
    expect(byName.get('network')).toMatchObject({ facts: 0, timedOut: true });
    expect(result.errors.map((error) => error.collector).sort()).toEqual(['hardware', 'network', 'os']);
  });
});
