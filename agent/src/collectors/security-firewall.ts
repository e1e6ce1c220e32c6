/**
 * The packet filter, when it can be read: the kernel has no file that lists nftables rules, so the
 * ruleset comes from `nft -j list ruleset` or, where nft is missing or refused, `iptables-save` and
 * `ip6tables-save`. Facts:
 * - `security.firewall.state`: `read`, or `unreadable` (the reason in `errors`: host mode, where
 *   the agent never runs the host's binaries; no tool; no privilege; no kernel support) — never
 *   guessed from config files;
 * - `security.firewall.backend`: `nftables` or `iptables`;
 * - `security.firewall.fingerprint`: `sha256:<hex>` of the ruleset normalized: rule handles, packet
 *   and byte counters, quota usage, set element expiry and nft's version banner dropped (iptables:
 *   the `#` lines and `[packets:bytes]`), so it changes only when a rule, set or policy does;
 * - `security.firewall.rules`: how many rules;
 * - `security.firewall.policy.<family>.<table>.<chain>`: `accept` / `drop` of each base chain of
 *   the filter type on the input, forward and output hooks (iptables: INPUT/FORWARD/OUTPUT of
 *   `*filter`, families `ip` and `ip6`).
 */
import { createHash } from 'node:crypto';
import { type FactMap, factPath } from '@envparity/shared';
import type { CollectorContext } from './types.js';

type Exec = CollectorContext['exec'];

export interface FirewallRuleset {
  backend: 'nftables' | 'iptables';
  /** The normalized ruleset the fingerprint is taken of. */
  normalized: string;
  rules: number;
  /** `family`, `table`, `chain` -> `accept` / `drop`. */
  policies: { family: string; table: string; chain: string; policy: string }[];
}

const FILTER_HOOKS = new Set(['input', 'forward', 'output']);
/** Keys that change while the ruleset does not: kernel handles, counters, quota use, timeouts running. */
const VOLATILE_KEYS = new Set(['handle', 'packets', 'bytes', 'used', 'expires']);

/** JSON with keys sorted and volatile keys dropped; anonymous counter statements removed from rules. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    const items = value.filter((item) => !isAnonymousCounter(item));
    return `[${items.map(canonicalJson).join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([key]) => !VOLATILE_KEYS.has(key))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** `{"counter": {"packets": 1, "bytes": 2}}` or `{"counter": null}` in a rule's expr: counts, not filtering. */
function isAnonymousCounter(item: unknown): boolean {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) return false;
  const keys = Object.keys(item);
  if (keys.length !== 1 || keys[0] !== 'counter') return false;
  const counter = (item as { counter: unknown }).counter;
  if (counter === null) return true;
  if (typeof counter !== 'object' || Array.isArray(counter)) return false;
  return Object.keys(counter as object).every((key) => key === 'packets' || key === 'bytes');
}

/** `nft -j list ruleset` output -> the normalized ruleset. Throws on output that is not nft's JSON. */
export function normalizeNftRuleset(output: string): FirewallRuleset {
  const parsed = JSON.parse(output) as { nftables?: Record<string, unknown>[] };
  if (!Array.isArray(parsed.nftables)) throw new Error('no "nftables" array in nft -j output');
  const objects = parsed.nftables.filter((object) => !('metainfo' in object));
  const policies: FirewallRuleset['policies'] = [];
  let rules = 0;
  for (const object of objects) {
    if ('rule' in object) rules++;
    const chain = object.chain as Record<string, unknown> | undefined;
    if (chain?.type === 'filter' && FILTER_HOOKS.has(String(chain.hook)) && typeof chain.policy === 'string') {
      policies.push({
        family: String(chain.family),
        table: String(chain.table),
        chain: String(chain.name),
        policy: chain.policy,
      });
    }
  }
  return { backend: 'nftables', normalized: canonicalJson(objects), rules, policies };
}

/** One `iptables-save` text -> its normalized lines, rule count and filter-table policies. */
export function normalizeIptablesSave(text: string, family: string): FirewallRuleset {
  const lines: string[] = [];
  const policies: FirewallRuleset['policies'] = [];
  let table = '';
  let rules = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    if (line.startsWith('*')) table = line.slice(1);
    if (line.startsWith('-A ')) rules++;
    const chain = /^:(\S+)\s+(\S+)/.exec(line);
    if (chain && table === 'filter' && chain[2] !== '-' && FILTER_HOOKS.has((chain[1] as string).toLowerCase())) {
      policies.push({ family, table, chain: chain[1] as string, policy: (chain[2] as string).toLowerCase() });
    }
    lines.push(line.replace(/\s*\[\d+:\d+\]$/, '').replace(/^\[\d+:\d+\]\s*/, ''));
  }
  return { backend: 'iptables', normalized: lines.join('\n'), rules, policies };
}

/** Runs a tool; its stdout, or a short reason it gave none. */
/** Per command: the whole security collector shares one timeout (10 s by default). */
export const FIREWALL_COMMAND_TIMEOUT_MS = 3_000;

async function run(exec: Exec, file: string, args: string[]): Promise<{ stdout: string } | { reason: string }> {
  try {
    const result = await exec(file, args, { timeoutMs: FIREWALL_COMMAND_TIMEOUT_MS });
    if (result.timedOut) return { reason: `${file} timed out` };
    if (result.code !== 0) {
      const message = result.stderr.trim().split('\n')[0] ?? '';
      return { reason: `${file} exited ${result.code ?? result.signal}${message ? `: ${message.slice(0, 200)}` : ''}` };
    }
    return { stdout: result.stdout };
  } catch (error) {
    return { reason: `${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}` };
  }
}

/** The ruleset from nft, else from iptables-save (+ ip6tables-save); or why neither could be read. */
export async function readFirewallRuleset(exec: Exec): Promise<FirewallRuleset | { reasons: string[] }> {
  const reasons: string[] = [];
  const nft = await run(exec, 'nft', ['-j', 'list', 'ruleset']);
  if ('stdout' in nft) {
    try {
      return normalizeNftRuleset(nft.stdout);
    } catch (error) {
      reasons.push(`nft: ${(error as Error).message}`);
    }
  } else reasons.push(nft.reason);
  const [ipv4, ipv6] = await Promise.all([run(exec, 'iptables-save', []), run(exec, 'ip6tables-save', [])]);
  if (!('stdout' in ipv4)) return { reasons: [...reasons, ipv4.reason] };
  const parts = [normalizeIptablesSave(ipv4.stdout, 'ip')];
  if ('stdout' in ipv6) parts.push(normalizeIptablesSave(ipv6.stdout, 'ip6'));
  return {
    backend: 'iptables',
    normalized: parts.map((part, index) => `${index === 0 ? 'ip' : 'ip6'}:\n${part.normalized}`).join('\n'),
    rules: parts.reduce((sum, part) => sum + part.rules, 0),
    policies: parts.flatMap((part) => part.policies),
  };
}

/** The facts of a ruleset (pure). */
export function firewallFacts(ruleset: FirewallRuleset): FactMap {
  const facts: FactMap = {
    [factPath('security', 'firewall', 'state')]: 'read',
    [factPath('security', 'firewall', 'backend')]: ruleset.backend,
    [factPath('security', 'firewall', 'fingerprint')]:
      `sha256:${createHash('sha256').update(ruleset.normalized).digest('hex')}`,
    [factPath('security', 'firewall', 'rules')]: ruleset.rules,
  };
  for (const { family, table, chain, policy } of ruleset.policies) {
    facts[factPath('security', 'firewall', 'policy', family, table, chain)] = policy;
  }
  return facts;
}

export async function collectFirewallFacts(
  exec: Exec,
  hostMode: boolean,
  reportError?: (message: string) => void,
): Promise<FactMap> {
  const unreadable = { [factPath('security', 'firewall', 'state')]: 'unreadable' };
  if (hostMode) {
    reportError?.("security.firewall: unreadable in host mode (the agent does not run the host's nft or iptables)");
    return unreadable;
  }
  const ruleset = await readFirewallRuleset(exec);
  if ('reasons' in ruleset) {
    reportError?.(`security.firewall: unreadable (${ruleset.reasons.join('; ')})`);
    return unreadable;
  }
  return firewallFacts(ruleset);
}
