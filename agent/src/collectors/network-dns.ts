/**
 * Resolver configuration and static host entries.
 *
 * /etc/resolv.conf -> `network.dns.nameservers` (file order), `network.dns.search` (the last
 * `search` or `domain` line wins, as in glibc), `network.dns.options` (every option, file order).
 * When the only nameserver is systemd-resolved's stub (127.0.0.53/54), the upstream servers from
 * /run/systemd/resolve/resolv.conf go to `network.dns.upstreamNameservers`, since the stub alone
 * hides where names really resolve.
 *
 * /etc/hosts -> `network.hosts.<name>` = sorted unique addresses, names lowercased. Entries for the
 * host's own name (full and short) are left out: every host maps its own name, so they would only
 * be noise between hosts (the host collector records identity).
 */
import { readFile } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { type FactMap, factPath } from '@envparity/shared';
import { sortAddresses } from './network-ip.js';

export interface ResolvConf {
  nameservers: string[];
  search: string[];
  options: string[];
}

/** Parses resolv.conf text. Comment lines start with `#` or `;`. */
export function parseResolvConf(text: string): ResolvConf {
  const conf: ResolvConf = { nameservers: [], search: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const [keyword, ...args] = line.split(/\s+/);
    const commentAt = args.findIndex((a) => a.startsWith('#') || a.startsWith(';'));
    const values = commentAt === -1 ? args : args.slice(0, commentAt);
    switch (keyword) {
      case 'nameserver':
        if (values[0]) conf.nameservers.push(values[0]);
        break;
      case 'search':
        conf.search = values;
        break;
      case 'domain':
        conf.search = values.slice(0, 1);
        break;
      case 'options':
        conf.options.push(...values);
        break;
    }
  }
  return conf;
}

const RESOLVED_STUBS = new Set(['127.0.0.53', '127.0.0.54']);

export interface DnsFactsOptions {
  resolvConf?: string;
  resolvedUpstreamConf?: string;
}

export async function collectDnsFacts({
  resolvConf = '/etc/resolv.conf',
  resolvedUpstreamConf = '/run/systemd/resolve/resolv.conf',
}: DnsFactsOptions = {}): Promise<FactMap> {
  const facts: FactMap = {};
  let text: string;
  try {
    text = await readFile(resolvConf, 'utf8');
  } catch {
    return facts;
  }
  const conf = parseResolvConf(text);
  facts[factPath('network', 'dns', 'nameservers')] = conf.nameservers;
  facts[factPath('network', 'dns', 'search')] = conf.search;
  facts[factPath('network', 'dns', 'options')] = conf.options;
  if (conf.nameservers.length > 0 && conf.nameservers.every((ns) => RESOLVED_STUBS.has(ns))) {
    try {
      const upstream = parseResolvConf(await readFile(resolvedUpstreamConf, 'utf8'));
      facts[factPath('network', 'dns', 'upstreamNameservers')] = upstream.nameservers;
    } catch {
      // no systemd-resolved upstream file: the stub is all there is to say
    }
  }
  return facts;
}

/** Parses /etc/hosts text into name -> addresses (names lowercased, file order). */
export function parseHosts(text: string): Map<string, string[]> {
  const names = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const [address, ...aliases] = line.split(/\s+/);
    if (!address || aliases.length === 0) continue;
    for (const alias of aliases) {
      const name = alias.toLowerCase();
      const list = names.get(name);
      if (list) list.push(address);
      else names.set(name, [address]);
    }
  }
  return names;
}

export interface HostsFactsOptions {
  hostsFile?: string;
  /** The host's own name, whose entries are skipped. */
  hostname?: string;
}

/** `network.hosts.<name>` facts from /etc/hosts text. */
export function hostsFacts(text: string, hostname: string): FactMap {
  const own = hostname.toLowerCase();
  const skip = new Set([own, own.split('.')[0]]);
  const facts: FactMap = {};
  const entries = [...parseHosts(text)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [name, addresses] of entries) {
    if (skip.has(name)) continue;
    facts[factPath('network', 'hosts', name)] = sortAddresses(addresses);
  }
  return facts;
}

export async function collectHostsFacts({
  hostsFile = '/etc/hosts',
  hostname = osHostname(),
}: HostsFactsOptions = {}): Promise<FactMap> {
  try {
    return hostsFacts(await readFile(hostsFile, 'utf8'), hostname);
  } catch {
    return {};
  }
}
