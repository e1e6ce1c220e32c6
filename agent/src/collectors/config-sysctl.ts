/**
 * Kernel parameters that commonly change how services behave, read from /proc/sys directly (no
 * `sysctl` process) -> `config.sysctl["net.core.somaxconn"]`: the sysctl name is kept whole as one
 * quoted segment. Integers become numbers, multi-number values (ip_local_port_range, tcp_rmem)
 * arrays of numbers, anything else a trimmed string. Parameters the kernel does not have (module
 * not loaded, another namespace) are left out.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type FactMap, type FactValue, factPath } from '@envparity/shared';

export const SYSCTL_NAMES = [
  // sockets and TCP
  'net.core.somaxconn',
  'net.core.netdev_max_backlog',
  'net.core.rmem_default',
  'net.core.rmem_max',
  'net.core.wmem_default',
  'net.core.wmem_max',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.ip_nonlocal_bind',
  'net.ipv4.ip_forward',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_tw_reuse',
  'net.ipv4.tcp_max_syn_backlog',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.tcp_syn_retries',
  'net.ipv4.tcp_retries2',
  'net.ipv4.tcp_slow_start_after_idle',
  'net.ipv4.tcp_congestion_control',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
  'net.ipv4.tcp_mtu_probing',
  'net.ipv6.conf.all.disable_ipv6',
  'net.ipv6.conf.default.disable_ipv6',
  'net.netfilter.nf_conntrack_max',
  // memory
  'vm.swappiness',
  'vm.overcommit_memory',
  'vm.overcommit_ratio',
  'vm.max_map_count',
  'vm.dirty_ratio',
  'vm.dirty_background_ratio',
  'vm.nr_hugepages',
  // files
  'fs.file-max',
  'fs.nr_open',
  'fs.inotify.max_user_watches',
  'fs.inotify.max_user_instances',
  'fs.aio-max-nr',
  // processes
  'kernel.pid_max',
  'kernel.threads-max',
  'kernel.shmmax',
  'kernel.shmall',
  'kernel.core_pattern',
  'kernel.randomize_va_space',
  'kernel.panic',
] as const;

/** Parses a /proc/sys value: a number, an array of numbers, or a string. */
export function parseSysctlValue(raw: string): FactValue {
  const text = raw.trim();
  const tokens = text.split(/\s+/).filter(Boolean);
  if (tokens.length > 0 && tokens.every((t) => /^-?\d+$/.test(t))) {
    // Past 2^53 a number would round (e.g. 9223372036854775807): keep those as strings.
    const values = tokens.map((t) => (Number.isSafeInteger(Number(t)) ? Number(t) : t));
    return values.length === 1 ? (values[0] as number | string) : values;
  }
  return text;
}

/** `net.core.somaxconn` -> `<procSys>/net/core/somaxconn`. */
export function sysctlFile(name: string, procSys = '/proc/sys'): string {
  return join(procSys, ...name.split('.'));
}

export async function collectSysctlFacts(
  names: readonly string[] = SYSCTL_NAMES,
  procSys = '/proc/sys',
): Promise<FactMap> {
  const values = await Promise.all(
    names.map(async (name) => {
      try {
        return [name, parseSysctlValue(await readFile(sysctlFile(name, procSys), 'utf8'))] as const;
      } catch {
        return undefined;
      }
    }),
  );
  const facts: FactMap = {};
  for (const entry of values) if (entry) facts[factPath('config', 'sysctl', entry[0])] = entry[1];
  return facts;
}
