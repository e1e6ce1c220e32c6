/**
 * Fact classes decide what is compared and fingerprinted:
 * - `identity`: who the host is (hostname, machine id, MACs) — shown, never compared;
 * - `volatile`: changes by itself (uptime, free memory, load, addresses) — shown, never compared;
 * - `scale`: sizes and counts (cores, memory, disk, row counts) — compared, reported as scale, non-blocking;
 * - `behavior`: everything else — compared; a difference is drift.
 */
import { z } from 'zod';
import { compilePathGlob, type PathGlob } from './glob.js';
import { parsePath } from './paths.js';

export const FACT_CLASSES = ['identity', 'volatile', 'scale', 'behavior'] as const;
export type FactClass = (typeof FACT_CLASSES)[number];
export const factClassSchema = z.enum(FACT_CLASSES);

/** A class rule: facts whose path matches `glob` get `class`. */
export const classRuleSchema = z.strictObject({ glob: z.string().min(1), class: factClassSchema });
export type ClassRule = z.infer<typeof classRuleSchema>;

/** Default rules, first match wins; anything unmatched is `behavior`. Documented in docs/FACTS.md. */
export const DEFAULT_CLASS_RULES: readonly ClassRule[] = [
  // identity: who the host is
  { glob: 'host.**', class: 'identity' },
  { glob: 'network.interface.*.mac', class: 'identity' },
  // volatile: moves by itself
  { glob: 'os.uptime', class: 'volatile' },
  { glob: 'os.boot**', class: 'volatile' },
  { glob: 'hardware.memory.free', class: 'volatile' },
  { glob: 'hardware.memory.available', class: 'volatile' },
  { glob: 'hardware.memory.used', class: 'volatile' },
  { glob: 'hardware.memory.cached', class: 'volatile' },
  { glob: 'hardware.memory.buffers', class: 'volatile' },
  { glob: 'hardware.swap.free', class: 'volatile' },
  { glob: 'hardware.swap.used', class: 'volatile' },
  { glob: 'hardware.load.**', class: 'volatile' },
  { glob: 'hardware.cpu.mhz', class: 'volatile' },
  { glob: 'hardware.cpu.speed**', class: 'volatile' },
  { glob: 'hardware.storage.*.free', class: 'volatile' },
  { glob: 'hardware.storage.*.used', class: 'volatile' },
  { glob: 'network.interface.*.addresses', class: 'volatile' },
  { glob: 'network.interface.*.address*', class: 'volatile' },
  { glob: 'network.interface.*.stat**', class: 'volatile' },
  { glob: 'network.listen.ephemeral.**', class: 'volatile' },
  { glob: 'container.uptime', class: 'volatile' },
  // a restart changes the pid; `stale` says the facts are the last ones read, not current
  { glob: 'process.*.pid', class: 'volatile' },
  { glob: 'process.*.stale', class: 'volatile' },
  // service.*: whether and how fast a server answered is the moment's, not the environment's
  { glob: 'service.*.reachable', class: 'volatile' },
  { glob: 'service.*.latencyMs', class: 'volatile' },
  { glob: 'service.*.error', class: 'volatile' },
  // scale: sizes and counts, compared but non-blocking
  { glob: 'hardware.cpu.cores', class: 'scale' },
  { glob: 'hardware.cpu.physicalCores', class: 'scale' },
  { glob: 'hardware.cpu.sockets', class: 'scale' },
  { glob: 'hardware.cpu.threads**', class: 'scale' },
  { glob: 'hardware.memory.total', class: 'scale' },
  { glob: 'hardware.swap.total', class: 'scale' },
  { glob: 'hardware.storage.*.size', class: 'scale' },
  { glob: 'hardware.storage.*.total', class: 'scale' },
  { glob: 'container.cgroup.cpu.**', class: 'scale' },
  { glob: 'container.cgroup.memory.**', class: 'scale' },
  { glob: 'config.sysctl["fs.file-max"]', class: 'scale' },
  { glob: 'config.sysctl["fs.nr_open"]', class: 'scale' },
  { glob: 'config.sysctl["kernel.pid_max"]', class: 'scale' },
  { glob: 'config.sysctl["kernel.threads-max"]', class: 'scale' },
  { glob: 'config.ulimit.nproc', class: 'scale' },
  { glob: 'process.*.count', class: 'scale' },
  { glob: 'process.*.limit.nproc', class: 'scale' },
  { glob: 'probe.**.rows', class: 'scale' },
  { glob: 'probe.**.count', class: 'scale' },
  { glob: 'probe.**.*_count', class: 'scale' },
  { glob: 'probe.**.*_rows', class: 'scale' },
  { glob: 'probe.**.size', class: 'scale' },
  // a server sized for its load: production's buffers and connection limits are meant to be bigger
  { glob: 'service.*.settings.max_connections', class: 'scale' },
  { glob: 'service.*.settings.shared_buffers', class: 'scale' },
  { glob: 'service.*.settings.work_mem', class: 'scale' },
  { glob: 'service.*.settings.maintenance_work_mem', class: 'scale' },
  { glob: 'service.*.settings.effective_cache_size', class: 'scale' },
  { glob: 'service.*.settings.innodb_buffer_pool_size', class: 'scale' },
  { glob: 'service.*.settings.maxmemory', class: 'scale' },
  { glob: 'service.*.tables.*.rows', class: 'scale' },
  // security.*: no rule, so behavior. Counts there (AppArmor profiles per mode, firewall rules,
  // passwordless accounts) are posture, not size: one profile or rule more than the baseline is drift.
];

export type Classifier = (path: string) => FactClass;

/**
 * Builds a classifier: user `overrides` are tried first (first match wins), then the defaults.
 * Results are cached per path, since the same paths are classified on every report.
 */
export function createClassifier(overrides: readonly ClassRule[] = [], defaults = DEFAULT_CLASS_RULES): Classifier {
  const rules: { glob: PathGlob; class: FactClass }[] = [...overrides, ...defaults].map((rule) => ({
    glob: compilePathGlob(rule.glob),
    class: rule.class,
  }));
  const cache = new Map<string, FactClass>();
  return (path) => {
    let factClass = cache.get(path);
    if (factClass === undefined) {
      // Parsed once for all the rules (each would parse the path again).
      const segments = parsePath(path);
      factClass = rules.find((rule) => rule.glob.matches(segments))?.class ?? 'behavior';
      cache.set(path, factClass);
    }
    return factClass;
  };
}

/** Classes that are compared between hosts and environments. */
export function isCompared(factClass: FactClass): boolean {
  return factClass === 'behavior' || factClass === 'scale';
}
