import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createTestContext } from '../../testing/collector-context.js';
import { hostCollector } from './host.js';
import { canonicalNameFromHosts, externalAddresses, isUsableMac } from './host-identity.js';

const context = createTestContext();

function tool(file: string, args: string[]): string | undefined {
  try {
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

describe('host identity helpers', () => {
  it('finds the canonical name of the hostname in /etc/hosts', () => {
    const hosts = '127.0.0.1 localhost\n# 10.0.0.1 web\n10.0.0.5  web1.example.com web1 # main\n';
    expect(canonicalNameFromHosts(hosts, 'web1')).toBe('web1.example.com');
    expect(canonicalNameFromHosts(hosts, 'WEB1')).toBe('web1.example.com');
    expect(canonicalNameFromHosts(hosts, 'web')).toBeUndefined();
  });

  it('keeps external addresses only, sorted', () => {
    const base = { netmask: '', mac: '02:00:00:00:00:01', cidr: null };
    expect(
      externalAddresses({
        lo: [{ ...base, address: '127.0.0.1', family: 'IPv4', internal: true }],
        eth0: [
          { ...base, address: '10.0.0.9', family: 'IPv4', internal: false },
          { ...base, address: 'fe80::1', family: 'IPv6', internal: false, scopeid: 2 },
          { ...base, address: '2001:db8::1', family: 'IPv6', internal: false, scopeid: 0 },
        ],
      }),
    ).toEqual(['10.0.0.9', '2001:db8::1']);
  });

  it('rejects zero and malformed MACs', () => {
    expect(isUsableMac('02:fc:00:00:00:01')).toBe(true);
    expect(isUsableMac('00:00:00:00:00:00')).toBe(false);
    expect(isUsableMac('00:00:00:00:00:00:00:00')).toBe(false);
  });
});

describe('hostCollector on this host', async () => {
  const facts = await hostCollector.collect(context);

  it.skipIf(tool('hostname', []) === undefined)('reports the hostname as `hostname` does', () => {
    expect(facts['host.hostname']).toBe(tool('hostname', []));
  });

  it.skipIf(tool('hostname', ['-f']) === undefined)('reports the FQDN as `hostname -f` does, when it has one', () => {
    if (facts['host.fqdn'] !== undefined) expect(facts['host.fqdn']).toBe(tool('hostname', ['-f']));
  });

  it.skipIf(!existsSync('/etc/machine-id'))('reports /etc/machine-id', () => {
    expect(facts['host.machineId']).toBe(readFileSync('/etc/machine-id', 'utf8').trim());
  });

  it.skipIf(tool('hostname', ['-I']) === undefined)('reports the addresses `hostname -I` lists', () => {
    const expected = (tool('hostname', ['-I']) ?? '').split(/\s+/).filter(Boolean).sort();
    expect(facts['host.addresses']).toEqual([...new Set(expected)]);
  });

  it.skipIf(tool('ip', ['-o', 'link']) === undefined)('reports MACs that `ip link` shows', () => {
    const shown = new Set(
      [...(tool('ip', ['-o', 'link']) ?? '').matchAll(/link\/\w+ ([0-9a-f:]{17})/g)].map((m) => m[1] as string),
    );
    const macs = facts['host.macs'] as string[];
    expect(macs.length).toBeGreaterThan(0);
    for (const mac of macs) expect(shown).toContain(mac);
    expect([...macs].sort()).toEqual(macs);
  });
});
