/**
 * Resource limits of the agent process, from /proc/self/limits -> `config.ulimit.<name>` with the
 * `ulimit`/`prlimit` short names (nofile, nproc, core, stack, memlock...). Soft limits only: that
 * is what a process actually gets; numbers as numbers, "unlimited" as the string "unlimited".
 * They describe the agent's own limits, which match a service's only when both run under the same
 * limits (same systemd defaults, same container runtime).
 */
import { readFile } from 'node:fs/promises';
import { type FactMap, factPath } from '@envparity/shared';

/** /proc/self/limits row names -> short names. */
export const ULIMIT_NAMES: Readonly<Record<string, string>> = {
  'Max cpu time': 'cpu',
  'Max file size': 'fsize',
  'Max data size': 'data',
  'Max stack size': 'stack',
  'Max core file size': 'core',
  'Max resident set': 'rss',
  'Max processes': 'nproc',
  'Max open files': 'nofile',
  'Max locked memory': 'memlock',
  'Max address space': 'as',
  'Max file locks': 'locks',
  'Max pending signals': 'sigpending',
  'Max msgqueue size': 'msgqueue',
  'Max nice priority': 'nice',
  'Max realtime priority': 'rtprio',
  'Max realtime timeout': 'rttime',
};

export interface LimitRow {
  name: string;
  soft: number | 'unlimited';
  hard: number | 'unlimited';
}

const parseLimit = (token: string): number | 'unlimited' => (token === 'unlimited' ? 'unlimited' : Number(token));

/** Parses the text of /proc/<pid>/limits; unknown rows keep a name derived from their label. */
export function parseLimits(text: string): LimitRow[] {
  const rows: LimitRow[] = [];
  for (const line of text.split('\n')) {
    const match = /^(Max .+?)\s+(unlimited|\d+)\s+(unlimited|\d+)(?:\s|$)/.exec(line);
    if (!match) continue;
    const label = match[1] as string;
    const name = ULIMIT_NAMES[label] ?? label.slice(4).replace(/\s+/g, '_');
    rows.push({ name, soft: parseLimit(match[2] as string), hard: parseLimit(match[3] as string) });
  }
  return rows;
}

export async function collectUlimitFacts(limitsFile = '/proc/self/limits'): Promise<FactMap> {
  let text: string;
  try {
    text = await readFile(limitsFile, 'utf8');
  } catch {
    return {};
  }
  const facts: FactMap = {};
  for (const row of parseLimits(text)) facts[factPath('config', 'ulimit', row.name)] = row.soft;
  return facts;
}
