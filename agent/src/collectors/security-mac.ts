/**
 * Mandatory access control, from the kernel's own files (what aa-status and getenforce read):
 * - `security.apparmor.state`: `enabled` / `disabled` (/sys/module/apparmor/parameters/enabled Y/N)
 *   or `absent` (no AppArmor in this kernel);
 * - `security.apparmor.profiles.<mode>`: loaded profiles per mode (`enforce`, `complain`, `kill`,
 *   `unconfined`, and any other mode the kernel lists), from /sys/kernel/security/apparmor/profiles
 *   (lines `name (mode)`), when readable (root only; else an error says so);
 * - `security.selinux.mode`: `enforcing` / `permissive` (/sys/fs/selinux/enforce) or `disabled`
 *   (selinuxfs not mounted: disabled at boot or not built in);
 *   `security.selinux.policyVersion` (/sys/fs/selinux/policyvers), and from /etc/selinux/config
 *   `security.selinux.configuredMode` (SELINUX=) and `security.selinux.policy` (SELINUXTYPE=).
 */
import { type FactMap, factPath } from '@envparity/shared';
import { type HostFs, readIntegerIn, readTrimmedIn } from './host-fs.js';

export const APPARMOR_ENABLED = '/sys/module/apparmor/parameters/enabled';
export const APPARMOR_PROFILES = '/sys/kernel/security/apparmor/profiles';
export const SELINUX_FS = '/sys/fs/selinux';
export const SELINUX_CONFIG = '/etc/selinux/config';
/** Modes always reported (0 when none), so a profile moving to another mode shows on both sides. */
export const APPARMOR_MODES = ['enforce', 'complain', 'kill', 'unconfined'] as const;

/** Counts profiles per mode in the kernel's `name (mode)` list. */
export function countAppArmorProfiles(text: string): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(APPARMOR_MODES.map((mode) => [mode, 0]));
  for (const line of text.split('\n')) {
    const mode = /\(([^()]+)\)\s*$/.exec(line)?.[1];
    if (mode) counts[mode] = (counts[mode] ?? 0) + 1;
  }
  return counts;
}

/** `KEY=value` lines of /etc/selinux/config (comments and quotes dropped). */
export function parseSelinuxConfig(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Z_]+)\s*=\s*"?([^"#\s]*)"?/.exec(line);
    if (match) values[match[1] as string] = match[2] as string;
  }
  return values;
}

export async function collectAppArmorFacts(host: HostFs, reportError?: (message: string) => void): Promise<FactMap> {
  // Without sysfs (host mode, /sys not mounted under the root) nothing can be said: not `absent`.
  if (!(await host.isDirectory('/sys/module'))) {
    reportError?.(`security.apparmor: no /sys/module under ${host.root}: not reported`);
    return {};
  }
  const flag = await readTrimmedIn(host, APPARMOR_ENABLED);
  const state = flag === undefined ? 'absent' : flag.toUpperCase().startsWith('Y') ? 'enabled' : 'disabled';
  const facts: FactMap = { [factPath('security', 'apparmor', 'state')]: state };
  if (state !== 'enabled') return facts;
  const profiles = await host.readText(APPARMOR_PROFILES);
  if (profiles === undefined) {
    reportError?.(`security.apparmor: ${APPARMOR_PROFILES} unreadable (securityfs not mounted, or not root)`);
    return facts;
  }
  for (const [mode, count] of Object.entries(countAppArmorProfiles(profiles))) {
    facts[factPath('security', 'apparmor', 'profiles', mode)] = count;
  }
  return facts;
}

export async function collectSelinuxFacts(host: HostFs, reportError?: (message: string) => void): Promise<FactMap> {
  if (!(await host.isDirectory('/sys/fs'))) {
    reportError?.(`security.selinux: no /sys/fs under ${host.root}: not reported`);
    return {};
  }
  const enforce = await readIntegerIn(host, `${SELINUX_FS}/enforce`);
  const facts: FactMap = {
    [factPath('security', 'selinux', 'mode')]:
      enforce === undefined ? 'disabled' : enforce === 1 ? 'enforcing' : 'permissive',
  };
  const policyVersion = await readIntegerIn(host, `${SELINUX_FS}/policyvers`);
  if (policyVersion !== undefined) facts[factPath('security', 'selinux', 'policyVersion')] = policyVersion;
  const configText = await host.readText(SELINUX_CONFIG);
  if (configText !== undefined) {
    const config = parseSelinuxConfig(configText);
    if (config.SELINUX) facts[factPath('security', 'selinux', 'configuredMode')] = config.SELINUX.toLowerCase();
    if (config.SELINUXTYPE) facts[factPath('security', 'selinux', 'policy')] = config.SELINUXTYPE;
  }
  return facts;
}
