/**
 * Kernel hardening sysctls and lockdown: a host root with a hardened kernel's values
 * (test/fixtures/security/host), and this machine's /proc/sys compared with `sysctl -n`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { factPath } from '@envparity/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSysctlValue } from './config-sysctl.js';
import { createHostFs, LOCAL_HOST_FS } from './host-fs.js';
import { collectKernelHardeningFacts, HARDENING_SYSCTLS, parseLockdown } from './security-kernel.js';

const HOST_FIXTURE = join(__dirname, '../../../test/fixtures/security/host');
const temp = mkdtempSync(join(tmpdir(), 'envparity-kernel-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const sysctl = (name: string) => factPath('security', 'sysctl', name);

describe('security.sysctl and security.kernel.lockdown', () => {
  it('takes the bracketed lockdown word', () => {
    expect(parseLockdown('[none] integrity confidentiality\n')).toBe('none');
    expect(parseLockdown('none integrity [confidentiality]')).toBe('confidentiality');
    expect(parseLockdown('')).toBeUndefined();
  });

  it('reads the host root: values, `absent` for a parameter the kernel lacks', async () => {
    // Only a plain-mode root here (hostMode false), so net.* are read too.
    const facts = await collectKernelHardeningFacts(createHostFs(HOST_FIXTURE, { hostMode: false }));
    expect(facts).toEqual({
      [sysctl('kernel.kptr_restrict')]: 2,
      [sysctl('kernel.dmesg_restrict')]: 1,
      [sysctl('kernel.unprivileged_bpf_disabled')]: 1,
      [sysctl('kernel.yama.ptrace_scope')]: 3,
      [sysctl('kernel.kexec_load_disabled')]: 'absent',
      [sysctl('kernel.perf_event_paranoid')]: 4,
      [sysctl('net.ipv4.conf.all.rp_filter')]: 1,
      [sysctl('net.ipv4.conf.default.rp_filter')]: 2,
      [sysctl('fs.protected_hardlinks')]: 1,
      [sysctl('fs.protected_symlinks')]: 1,
      [sysctl('fs.protected_fifos')]: 2,
      [sysctl('fs.protected_regular')]: 2,
      [sysctl('fs.suid_dumpable')]: 0,
      'security.kernel.lockdown': 'integrity',
    });
  });

  it('in host mode leaves out net.* of another network namespace, and says when /proc or /sys is missing', async () => {
    const errors: string[] = [];
    const facts = await collectKernelHardeningFacts(createHostFs(HOST_FIXTURE), (message) => errors.push(message));
    expect(facts[sysctl('kernel.kptr_restrict')]).toBe(2);
    expect(facts[sysctl('net.ipv4.conf.all.rp_filter')]).toBeUndefined();
    expect(errors).toEqual([expect.stringContaining("net.* belong to the agent's network namespace")]);
    const bare: string[] = [];
    expect(await collectKernelHardeningFacts(createHostFs(temp), (message) => bare.push(message))).toEqual({});
    expect(bare).toHaveLength(2);
  });

  it("this machine's values equal sysctl -n", async (context) => {
    const facts = await collectKernelHardeningFacts(LOCAL_HOST_FS);
    const probe = spawnSync('sysctl', ['-n', 'kernel.kptr_restrict'], { encoding: 'utf8' });
    if (probe.error) return context.skip();
    for (const name of HARDENING_SYSCTLS) {
      const result = spawnSync('sysctl', ['-n', name], { encoding: 'utf8' });
      const expected = result.status === 0 ? parseSysctlValue(result.stdout) : 'absent';
      expect(facts[sysctl(name)], name).toEqual(expected);
    }
    expect(['none', 'integrity', 'confidentiality', 'absent']).toContain(facts['security.kernel.lockdown']);
  });
});
