/**
 * The service collector: for each `watch.services` entry, the version and settings of the server
 * an application talks to, under `service.<name>.*` (probes in services/). Every service runs in
 * parallel under its own timeout; an unreachable one is reported as such (`reachable: false` and
 * `error`), never as a failed pass. Paths and classes: docs/FACTS.md "service".
 */
import { type FactMap, factPath } from '@envparity/shared';
import { observeService } from './services/observe.js';
import type { Collector, CollectorContext } from './types.js';

/** `service.<name>` joined with a probe's relative path (`version`, `settings.work_mem`, `tables["a.b"].rows`). */
function servicePath(name: string, relative: string): string {
  const prefix = factPath('service', name);
  return relative.startsWith('[') ? `${prefix}${relative}` : `${prefix}.${relative}`;
}

export const serviceCollector: Collector = {
  name: 'service',
  async collect(context: CollectorContext): Promise<FactMap> {
    const services = context.config.watch.services;
    const observations = await Promise.all(services.map((spec) => observeService(spec, { signal: context.signal })));
    const facts: FactMap = {};
    services.forEach((spec, index) => {
      const observation = observations[index];
      if (!observation) return;
      const at = (relative: string) => servicePath(spec.name, relative);
      facts[at('type')] = spec.type;
      facts[at('reachable')] = observation.reachable;
      facts[at('latencyMs')] = observation.latencyMs;
      if (observation.version !== undefined) facts[at('version')] = observation.version;
      if (observation.error !== undefined) facts[at('error')] = observation.error;
      for (const [relative, value] of Object.entries(observation.facts)) facts[at(relative)] = value;
    });
    return facts;
  },
};
