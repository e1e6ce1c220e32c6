/**
 * The firewall facts from real rulesets loaded into the kernel: each read runs the real nft or
 * iptables-save inside a fresh network namespace (`unshare -n`) where the ruleset was just loaded
 * (Debian's default /etc/nftables.conf, nftables' workstation example, an iptables-save dump), so
 * this machine's own firewall is never touched. Also: host mode, no privilege, this machine.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { execCommand } from '../exec.js';
import { collectFirewallFacts, normalizeIptablesSave } from './security-firewall.js';
import type { CollectorContext } from './types.js';

type Exec = CollectorContext['exec'];
const FIXTURES = join(__dirname, '../../../test/fixtures/security/firewall');
const temp = mkdtempSync(join(tmpdir(), 'envparity-firewall-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** Why rulesets cannot be loaded in a private network namespace here, or undefined. */
function namespaceUnavailable(): string | undefined {
  const probe = spawnSync('unshare', ['-n', 'sh', '-c', 'command -v nft && command -v iptables-restore'], {
    encoding: 'utf8',
  });
  if (probe.error) return `unshare: ${(probe.error as NodeJS.ErrnoException).code}`;
  if (probe.status !== 0) return `unshare -n or nft/iptables missing (exit ${probe.status}): ${probe.stderr.trim()}`;
  return undefined;
}
const noNamespace = namespaceUnavailable();

/**
 * An exec whose every command runs in a new network namespace after `load` put a ruleset there
 * (nft -f FILE or iptables-restore < FILE); `hide` names commands that are "not installed".
 */
function namespacedExec(load: string, file: string, hide: string[] = []): Exec {
  return (command, args, options) => {
    const name = hide.includes(command) ? `${command}-not-installed` : command;
    const script = `${load} "$0" >/dev/null && exec "$@"`;
    return execCommand('unshare', ['-n', 'sh', '-c', script, file, name, ...args], options);
  };
}
const nftLoad = 'nft -f';
const iptablesLoad = 'iptables-restore <';

function rulesetFile(name: string, text: string): string {
  const file = join(temp, name);
  writeFileSync(file, text);
  return file;
}

async function read(exec: Exec, hostMode = false) {
  const errors: string[] = [];
  const facts = await collectFirewallFacts(exec, hostMode, (message) => errors.push(message));
  return { facts, errors };
}

describe.skipIf(noNamespace !== undefined)(
  `security.firewall from rulesets in a private namespace ${noNamespace ? `(skipped: ${noNamespace})` : ''}`,
  () => {
    it("Debian's default nftables.conf: an inet filter table, all policies accept, no rules", async () => {
      const { facts, errors } = await read(namespacedExec(nftLoad, join(FIXTURES, 'debian-nftables.conf')));
      expect(errors).toEqual([]);
      expect(facts).toEqual({
        'security.firewall.state': 'read',
        'security.firewall.backend': 'nftables',
        'security.firewall.fingerprint': expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
        'security.firewall.rules': 0,
        'security.firewall.policy.inet.filter.input': 'accept',
        'security.firewall.policy.inet.filter.forward': 'accept',
        'security.firewall.policy.inet.filter.output': 'accept',
      });
    });

    it('counters do not change the fingerprint; a rule or a policy does', async () => {
      const workstation = readFileSync(join(FIXTURES, 'workstation.nft'), 'utf8');
      const fingerprint = async (text: string, name: string) =>
        (await read(namespacedExec(nftLoad, rulesetFile(name, text)))).facts['security.firewall.fingerprint'];
      const base = await read(namespacedExec(nftLoad, join(FIXTURES, 'workstation.nft')));
      expect(base.facts['security.firewall.rules']).toBe(5);
      const original = base.facts['security.firewall.fingerprint'];
      const counted = workstation.replace('counter drop', 'counter packets 42 bytes 4242 drop');
      expect(counted).not.toBe(workstation);
      expect(await fingerprint(counted, 'counted.nft')).toBe(original);
      // Handles differ when a chain was added and deleted before the rules were loaded.
      const shifted = `flush ruleset\ntable inet filter {\n\tchain scratch {\n\t}\n}\ndelete chain inet filter scratch\n${workstation.replace('flush ruleset', '')}`;
      expect(await fingerprint(shifted, 'shifted.nft')).toBe(original);
      expect(await fingerprint(workstation.replace('iif lo accept', 'iif lo drop'), 'rule.nft')).not.toBe(original);
      const dropPolicy = workstation.replace('priority 0;', 'priority 0; policy drop;');
      const dropped = await read(namespacedExec(nftLoad, rulesetFile('policy.nft', dropPolicy)));
      expect(dropped.facts['security.firewall.policy.inet.filter.input']).toBe('drop');
      expect(dropped.facts['security.firewall.fingerprint']).not.toBe(original);
    });

    it('iptables-save where nft is not installed: filter policies, rule count, counters dropped', async () => {
      const exec = namespacedExec(iptablesLoad, join(FIXTURES, 'iptables-save.rules'), ['nft']);
      const { facts, errors } = await read(exec);
      expect(errors).toEqual([]);
      expect(facts).toEqual({
        'security.firewall.state': 'read',
        'security.firewall.backend': 'iptables',
        'security.firewall.fingerprint': expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
        'security.firewall.rules': 7,
        'security.firewall.policy.ip.filter.INPUT': 'drop',
        'security.firewall.policy.ip.filter.FORWARD': 'drop',
        'security.firewall.policy.ip.filter.OUTPUT': 'accept',
      });
    });

    it('unreadable without privilege: says so with the reason, never fails', async () => {
      const unprivileged: Exec = (command, args, options) =>
        execCommand('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', command, ...args], options);
      const { facts, errors } = await read(unprivileged);
      expect(facts).toEqual({ 'security.firewall.state': 'unreadable' });
      expect(errors).toEqual([expect.stringMatching(/^security\.firewall: unreadable \(nft exited 1: .*\)$/)]);
    });
  },
);

describe('security.firewall', () => {
  it('iptables-save text: comments and counters dropped, as iptables-save -c prints them too', () => {
    const plain = normalizeIptablesSave('# at 10:00\n*filter\n:INPUT DROP [5:300]\n-A INPUT -j ACCEPT\nCOMMIT\n', 'ip');
    const counted = normalizeIptablesSave(
      '# at 11:00\n*filter\n:INPUT DROP [9:900]\n[3:120] -A INPUT -j ACCEPT\nCOMMIT\n',
      'ip',
    );
    expect(counted.normalized).toBe(plain.normalized);
    expect(plain).toEqual({
      backend: 'iptables',
      normalized: '*filter\n:INPUT DROP\n-A INPUT -j ACCEPT\nCOMMIT',
      rules: 1,
      policies: [{ family: 'ip', table: 'filter', chain: 'INPUT', policy: 'drop' }],
    });
  });

  it('host mode: unreadable with the reason, and no host binary is run', async () => {
    const ran: string[] = [];
    const exec: Exec = (command, args, options) => {
      ran.push(command);
      return execCommand(command, args, options);
    };
    const { facts, errors } = await read(exec, true);
    expect(facts).toEqual({ 'security.firewall.state': 'unreadable' });
    expect(errors).toEqual([expect.stringContaining('host mode')]);
    expect(ran).toEqual([]);
  });

  it("this machine's ruleset: read twice, the same fingerprint", async () => {
    const exec: Exec = (command, args, options) => execCommand(command, args, options);
    const first = await read(exec);
    const second = await read(exec);
    expect(['read', 'unreadable']).toContain(first.facts['security.firewall.state']);
    if (first.facts['security.firewall.state'] === 'unreadable') expect(first.errors).toHaveLength(1);
    expect(second.facts).toEqual(first.facts);
  });
});
