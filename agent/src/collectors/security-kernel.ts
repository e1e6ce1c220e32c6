/**
 * Kernel hardening: `security.sysctl["<name>"]` for the parameters below, read from the host's
 * /proc/sys (values parsed as config.sysctl does; `absent` when the kernel has no such parameter,
 * e.g. kernel.yama.ptrace_scope without the Yama LSM, since a missing protection is itself the
 * fact), and `security.kernel.lockdown`: the bracketed word of /sys/kernel/security/lockdown
 * (`none`, `integrity`, `confidentiality`), `absent` without the lockdown LSM or securityfs.
 * Where the tree itself is missing (host mode without the host's /proc or /sys under the root) the
 * facts are left out and an error says why, rather than reported `absent`. In host mode, net.*
 * parameters are those of the agent's network namespace unless it shares the host's: left out then.
 */
import { type FactMap, factPath } from '@envparity/shared';
import { parseSysctlValue } from './config-sysctl.js';
import type { HostFs } from './host-fs.js';
import { sharesHostNamespace } from './host-namespace.js';

export const HARDENING_SYSCTLS = [
  'kernel.kptr_restrict',
  'kernel.dmesg_restrict',
  'kernel.unprivileged_bpf_disabled',
  'kernel.yama.ptrace_scope',
  'kernel.kexec_load_disabled',
  'kernel.perf_event_paranoid',
  'net.ipv4.conf.all.rp_filter',
  'net.ipv4.conf.default.rp_filter',
  'fs.protected_hardlinks',
  'fs.protected_symlinks',
  'fs.protected_fifos',
  'fs.protected_regular',
  'fs.suid_dumpable',
] as const;

export const LOCKDOWN_FILE = '/sys/kernel/security/lockdown';

/** `none [integrity] confidentiality` -> `integrity`. */
export function parseLockdown(text: string): string | undefined {
  return /\[([^\]]+)\]/.exec(text)?.[1];
}

export async function collectKernelHardeningFacts(
  host: HostFs,
  reportError?: (message: string) => void,
  names: readonly string[] = HARDENING_SYSCTLS,
): Promise<FactMap> {
  const facts: FactMap = {};
  if (await host.isDirectory('/proc/sys/kernel')) {
    let wanted = names;
    if (!(await sharesHostNamespace(host, 'net'))) {
      wanted = names.filter((name) => !name.startsWith('net.'));
      if (wanted.length < names.length) {
        reportError?.("security.sysctl: net.* belong to the agent's network namespace, not the host's: not reported");
      }
    }
    const values = await Promise.all(wanted.map((name) => host.readText(`/proc/sys/${name.split('.').join('/')}`)));
    wanted.forEach((name, index) => {
      const raw = values[index];
      facts[factPath('security', 'sysctl', name)] = raw === undefined ? 'absent' : parseSysctlValue(raw);
    });
  } else reportError?.(`security.sysctl: no /proc/sys under ${host.root}: not reported`);
  if (await host.isDirectory('/sys/kernel')) {
    const lockdown = await host.readText(LOCKDOWN_FILE);
    facts[factPath('security', 'kernel', 'lockdown')] = (lockdown && parseLockdown(lockdown)) ?? 'absent';
  } else reportError?.(`security.kernel.lockdown: no /sys/kernel under ${host.root}: not reported`);
  return facts;
}
