/**
 * The security collector as a whole: in host mode on a root built from the fixtures (every fact
 * equal to the root's value, the firewall stated unreadable, nothing of this machine's), through
 * the collector runner (the `security` category is kept), and through the real workspace bin
 * `envparity-agent collect --json`, on this machine and with `--host-root`.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FactDocument, factDocumentSchema, validateAgentConfig } from '@envparity/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext } from '../../testing/collector-context.js';
import { execCommand } from '../exec.js';
import { runCollectors } from '../run-collectors.js';
import { createSecretHasher } from '../secrets.js';
import { createHostFs } from './host-fs.js';
import { createSecurityCollector } from './security.js';
import type { CollectorContext } from './types.js';

const REPO = join(__dirname, '../../..');
const FIXTURES = join(REPO, 'test/fixtures/security');
const BIN = join(REPO, 'agent/bin/envparity-agent.js');
const temp = mkdtempSync(join(tmpdir(), 'envparity-security-'));
const root = join(temp, 'host');
let closedPort: string;

beforeAll(async () => {
  cpSync(join(FIXTURES, 'host'), root, { recursive: true });
  cpSync(join(FIXTURES, 'sshd/hardened'), join(root, 'etc/ssh'), { recursive: true });
  // A port that was just listening and is closed now: the TLS probe's answer is known.
  const server = createServer();
  closedPort = await new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(`127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
    }),
  );
  await new Promise((resolve) => server.close(resolve));
});
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** What every host-mode reading must give: the root's values, never this machine's. */
function expectRootFacts(facts: Record<string, unknown>): void {
  expect(facts).toMatchObject({
    'security.sshd.state': 'present',
    'security.sshd.PermitRootLogin': 'yes',
    'security.sshd.MaxAuthTries': 4,
    'security.sshd.AllowGroups': ['ssh-users', 'admins'],
    'security.apparmor.state': 'enabled',
    'security.apparmor.profiles.enforce': 9,
    'security.selinux.mode': 'enforcing',
    'security.selinux.policy': 'targeted',
    'security.sysctl["kernel.kptr_restrict"]': 2,
    'security.sysctl["kernel.yama.ptrace_scope"]': 3,
    'security.kernel.lockdown': 'integrity',
    'security.accounts.uid0': ['root', 'toor'],
    'security.accounts.emptyPassword': 2,
    'security.firewall.state': 'unreadable',
  });
  expect(facts['security.firewall.fingerprint']).toBeUndefined();
}

describe('security collector', () => {
  it('host mode: every fact from the root, the firewall unreadable with the reason', async () => {
    const errors: string[] = [];
    const context: CollectorContext = {
      ...createTestContext(),
      config: validateAgentConfig({ watch: { tls: [closedPort] } }),
      host: createHostFs(root),
      reportError: (message) => errors.push(message),
    };
    const facts = await createSecurityCollector().collect(context);
    expectRootFacts(facts);
    expect(facts[`security.tls["${closedPort}"].error`]).toBe('ECONNREFUSED');
    expect(errors).toEqual(
      expect.arrayContaining([expect.stringContaining('security.firewall: unreadable in host mode')]),
    );
    for (const path of Object.keys(facts)) expect(path.startsWith('security.')).toBe(true);
  });

  it('the runner keeps the security category', async () => {
    const config = validateAgentConfig({});
    const { collectors } = await runCollectors([createSecurityCollector()], {
      config,
      secrets: createSecretHasher('k', []),
      host: createHostFs(root),
    });
    const [result] = collectors;
    expect(result?.error).toBeUndefined();
    expectRootFacts(result?.facts ?? {});
  });
});

describe('envparity-agent collect --json (the workspace bin)', () => {
  async function collect(args: string[]): Promise<FactDocument> {
    const stateDir = join(temp, `state-${Math.random().toString(36).slice(2)}`);
    const result = await execCommand('node', [BIN, 'collect', '--json', '--state-dir', stateDir, ...args], {
      timeoutMs: 60_000,
      cwd: REPO,
    });
    expect(result.code, result.stderr).toBe(0);
    return factDocumentSchema.parse(JSON.parse(result.stdout));
  }

  it('this machine: security.* present with sane values, the collector without error', async () => {
    const config = join(temp, 'agent.yaml');
    writeFileSync(config, `watch:\n  tls: ["${closedPort}"]\n`);
    const document = await collect(['--config', config]);
    const facts = document.facts;
    expect(document.collectors.find((collector) => collector.name === 'security')).toMatchObject({
      facts: expect.any(Number),
    });
    expect(document.collectors.find((collector) => collector.name === 'security')?.error).toBeUndefined();
    expect(['present', 'absent', 'unreadable']).toContain(facts['security.sshd.state']);
    expect(['enabled', 'disabled', 'absent']).toContain(facts['security.apparmor.state']);
    expect(['enforcing', 'permissive', 'disabled']).toContain(facts['security.selinux.mode']);
    expect(['read', 'unreadable']).toContain(facts['security.firewall.state']);
    if (facts['security.firewall.state'] === 'read') {
      expect(facts['security.firewall.fingerprint']).toMatch(/^sha256:[0-9a-f]{64}$/);
    } else expect(document.errors.some((error) => error.message.startsWith('security.firewall'))).toBe(true);
    expect(facts['security.accounts.uid0']).toContain('root');
    const kptr = facts['security.sysctl["kernel.kptr_restrict"]'];
    expect(typeof kptr === 'number' ? kptr : -1).toBeGreaterThanOrEqual(0);
    expect(facts[`security.tls["${closedPort}"].error`]).toBe('ECONNREFUSED');
  });

  it('--host-root: the security facts are the root’s', async () => {
    const document = await collect(['--host-root', root]);
    expectRootFacts(document.facts);
  });
});
