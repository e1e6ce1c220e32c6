/**
 * Summaries of V8 `.cpuprofile` files (from `node --cpu-prof`): where the time went, by function,
 * by file or package, and inclusive by function, optionally for one time window of the run (the
 * profile's clock is CLOCK_MONOTONIC in microseconds, the same as `process.hrtime`).
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  name: string;
  ms: number;
  pct: number;
}

export interface ProfileSummary {
  windowMs: number;
  sampledMs: number;
  /** Share of the window the thread was busy (not idle): ~ CPU % of one core for the main thread. */
  busyPct: number;
  selfByFunction: ProfileEntry[];
  selfByArea: ProfileEntry[];
  inclusiveByFunction: ProfileEntry[];
}

/** Where a script lives: a package (`better-sqlite3`), a repo file (`aggregator/dist/store.js`) or `node:internal`. */
export function areaOf(url: string): string {
  if (url === '') return '(native/vm)';
  if (url.startsWith('node:')) return url.startsWith('node:internal') ? 'node:internal' : url;
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = path.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? path);
  }
  const repo = /\/(shared|agent|aggregator|packages\/[^/]+)\/(dist|src)\/(.+)$/.exec(path);
  return repo ? `${repo[1]}/${repo[2]}/${repo[3]}` : path;
}

function frameName(frame: CallFrame): string {
  const fn = frame.functionName || '(anonymous)';
  if (frame.url === '') return fn;
  return `${fn} ${areaOf(frame.url)}:${frame.lineNumber + 1}`;
}

const top = (map: Map<string, number>, total: number, n: number): ProfileEntry[] =>
  [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => ({
      name,
      ms: Math.round(us / 100) / 10,
      pct: total > 0 ? Math.round((us / total) * 1000) / 10 : 0,
    }));

/** Summarises the samples whose timestamps fall in [fromUs, toUs] (default: the whole profile). */
export function summarizeCpuProfile(
  profile: CpuProfile,
  { fromUs = -Infinity, toUs = Infinity, limit = 25 }: { fromUs?: number; toUs?: number; limit?: number } = {},
): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const self = new Map<string, number>();
  const area = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let t = profile.startTime;
  let sampled = 0;
  let idle = 0;
  let first = Infinity;
  let last = -Infinity;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (t < fromUs || t > toUs) continue;
    // A sample stands for the time until the next one.
    const dt = Math.max(0, Math.min(profile.timeDeltas[i + 1] ?? 0, 100_000));
    first = Math.min(first, t);
    last = Math.max(last, t);
    const id = profile.samples[i] as number;
    const node = byId.get(id);
    if (!node) continue;
    sampled += dt;
    const name = frameName(node.callFrame);
    if (node.callFrame.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    self.set(name, (self.get(name) ?? 0) + dt);
    const a = node.callFrame.url === '' ? name : areaOf(node.callFrame.url);
    area.set(a, (area.get(a) ?? 0) + dt);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)?.callFrame;
      if (!frame || frame.functionName === '(root)') continue;
      const key = frameName(frame);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + dt);
    }
  }
  const windowUs = Number.isFinite(fromUs) && Number.isFinite(toUs) ? toUs - fromUs : Math.max(0, last - first);
  const busy = sampled - idle;
  return {
    windowMs: Math.round(windowUs / 1000),
    sampledMs: Math.round(sampled / 1000),
    busyPct: windowUs > 0 ? Math.round((busy / windowUs) * 1000) / 10 : 0,
    selfByFunction: top(self, busy, limit),
    selfByArea: top(area, busy, limit),
    inclusiveByFunction: top(inclusive, busy, limit),
  };
}
