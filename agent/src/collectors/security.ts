/**
 * The security collector: the host's security posture as `security.*` facts, each part from the
 * host's own files through the HostFs (host mode reads the host's under the root): sshd's effective
 * settings (security-sshd.ts), AppArmor and SELinux (security-mac.ts), kernel hardening sysctls and
 * lockdown (security-kernel.ts), UID 0 accounts and passwordless ones (security-accounts.ts); the
 * firewall ruleset through nft/iptables, never in host mode (security-firewall.ts); and the TLS
 * versions each `watch.tls` endpoint accepts (security-tls-versions.ts). A part that fails reports
 * to `errors` and the others are still returned. Paths and classes: docs/FACTS.md "security".
 */
import type { FactMap } from '@envparity/shared';
import { collectAccountFacts } from './security-accounts.js';
import { collectFirewallFacts } from './security-firewall.js';
import { collectKernelHardeningFacts } from './security-kernel.js';
import { collectAppArmorFacts, collectSelinuxFacts } from './security-mac.js';
import { collectSshdFacts } from './security-sshd.js';
import { collectTlsVersionFacts } from './security-tls-versions.js';
import { type Collector, type CollectorContext, hostFsOf } from './types.js';

export interface SecurityCollectorOptions {
  /** Per TLS handshake probe (default 3 s). */
  tlsTimeoutMs?: number;
}

export function createSecurityCollector(options: SecurityCollectorOptions = {}): Collector {
  return {
    name: 'security',
    async collect(context: CollectorContext) {
      const host = hostFsOf(context);
      const report = (message: string) => context.reportError?.(message);
      // Each part on its own: one that throws is an error line, not a lost collector.
      const part = async (name: string, collect: () => Promise<FactMap>): Promise<FactMap> => {
        try {
          return await collect();
        } catch (error) {
          report(`security.${name}: ${error instanceof Error ? error.message : String(error)}`);
          return {};
        }
      };
      const parts = await Promise.all([
        part('sshd', () => collectSshdFacts(host, report)),
        part('apparmor', () => collectAppArmorFacts(host, report)),
        part('selinux', () => collectSelinuxFacts(host, report)),
        part('sysctl', () => collectKernelHardeningFacts(host, report)),
        part('accounts', () => collectAccountFacts(host, report)),
        part('firewall', () => collectFirewallFacts(context.exec, host.hostMode, report)),
        part('tls', () =>
          collectTlsVersionFacts(
            context.config.watch.tls,
            { signal: context.signal, ...(options.tlsTimeoutMs ? { timeoutMs: options.tlsTimeoutMs } : {}) },
            report,
          ),
        ),
      ]);
      return Object.assign({}, ...parts) as FactMap;
    },
  };
}

export const securityCollector: Collector = createSecurityCollector();
