/**
 * The probe collector: runs every `watch.probes` command through `/bin/sh -c`, all in parallel,
 * each behind its own timeout (its process group is killed on timeout by exec.ts). A probe that
 * fails or hangs is recorded as `probe.<name>.error` (and in the document's `errors`) and never
 * holds back the others; even a
 * grandchild that escapes the process group (setsid) and keeps the output pipe open only costs a
 * short grace period, after which the probe is reported as timed out. Output rules: probe-output.ts.
 *
 * The runner's per-collector timeout (`collectorTimeout`, 10 s by default) would cut off probes the
 * user allowed to run longer, and with them every other probe's result; so this collector sets its
 * own timeout to the longest allowed probe timeout: it is bounded by its probes anyway.
 *
 * In host mode no probe runs (a command would run in the agent's container): each one is a
 * `probe.<name>.error` fact and an entry of the document's errors.
 */
import type { FactMap, ProbeConfig } from '@envparity/shared';
import type { ExecResult } from '../exec.js';
import { probeErrorFacts, probeFailure, probeOutputFacts } from './probe-output.js';
import { type Collector, type CollectorContext, hostFsOf } from './types.js';

/** After a probe's own timeout, how long to wait for its process group to die before giving up on it. */
export const PROBE_GRACE_MS = 300;
/** The schema's maximum probe timeout (600 s) plus slack. */
export const PROBE_COLLECTOR_TIMEOUT_MS = 600_000 + 5_000;
/** Probe output beyond this is not kept (the process group is killed). */
const PROBE_MAX_BUFFER = 1024 * 1024;

const GAVE_UP = Symbol('gave-up');

async function runProbe(
  probe: ProbeConfig,
  context: CollectorContext,
  signal: AbortSignal,
  graceMs: number,
): Promise<FactMap> {
  const timeoutMs = probe.timeout * 1000;
  const fail = (message: string) => {
    context.reportError?.(`probe ${probe.name}: ${message}`);
    return probeErrorFacts(probe.name, message);
  };
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<typeof GAVE_UP>((resolve) => {
    timer = setTimeout(() => resolve(GAVE_UP), timeoutMs + graceMs);
  });
  try {
    const run = context.exec(probe.command, [], { shell: true, timeoutMs, maxBuffer: PROBE_MAX_BUFFER, signal });
    // The exec promise may settle after we gave up on it: never leave its rejection unhandled.
    run.catch(() => {});
    const outcome: ExecResult | typeof GAVE_UP = await Promise.race([run, gaveUp]);
    if (outcome === GAVE_UP) return fail(`timeout after ${probe.timeout} s`);
    const failure = probeFailure(outcome, probe.timeout);
    if (failure) return fail(failure);
    return probeOutputFacts(probe.name, outcome.stdout, context.secrets);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    return fail(`spawn failed: ${code ?? String(error)}`);
  } finally {
    clearTimeout(timer);
  }
}

export interface ProbeCollectorOptions {
  graceMs?: number;
}

export function createProbeCollector({ graceMs = PROBE_GRACE_MS }: ProbeCollectorOptions = {}): Collector {
  return {
    name: 'probe',
    timeoutMs: PROBE_COLLECTOR_TIMEOUT_MS,
    async collect(context) {
      const { probes } = context.config.watch;
      if (probes.length === 0) return {};
      if (hostFsOf(context).hostMode) {
        // A probe would run in the agent's container, not on the host: never silently the wrong answer.
        const message = "not run in host mode: the command would run in the agent's container, not on the host";
        return Object.assign(
          {},
          ...probes.map((probe) => {
            context.reportError?.(`probe ${probe.name}: ${message}`);
            return probeErrorFacts(probe.name, message);
          }),
        ) as FactMap;
      }
      // One listener on the runner's signal, one signal per probe: exec adds an abort listener per
      // call, and dozens of probes on one signal would trip Node's MaxListeners warning.
      const controllers = probes.map(() => new AbortController());
      const abortAll = () => {
        for (const controller of controllers) controller.abort();
      };
      if (context.signal.aborted) abortAll();
      else context.signal.addEventListener('abort', abortAll, { once: true });
      try {
        const results = await Promise.all(
          probes.map((probe, index) =>
            runProbe(probe, context, (controllers[index] as AbortController).signal, graceMs),
          ),
        );
        return Object.assign({}, ...results) as FactMap;
      } finally {
        context.signal.removeEventListener('abort', abortAll);
      }
    },
  };
}

export const probeCollector: Collector = createProbeCollector();
