/**
 * The network collector: interfaces (MTU, state, addresses), default gateways, resolver config,
 * /etc/hosts, resolution of declared names, certificates of declared TLS endpoints and listening
 * ports. Everything is read from /proc, /sys and /etc directly or through non-blocking Node APIs.
 * systeminformation, whose networkInterfaces() blocks the event loop, is only the fallback for
 * interface MTU and state where /sys/class/net cannot be read (network-interfaces.ts). Path
 * patterns and suggested classes: docs/FACTS.md.
 */
import type { FactMap } from '@envparity/shared';
import { collectDnsFacts, collectHostsFacts } from './network-dns.js';
import { collectInterfaceFacts } from './network-interfaces.js';
import { collectListenFacts, type PortRange } from './network-listen.js';
import { collectResolveFacts, type LookupAll } from './network-resolve.js';
import { collectGatewayFacts } from './network-route.js';
import { collectTlsFacts } from './network-tls.js';
import type { SystemInformationLoader } from './system-information.js';
import type { Collector } from './types.js';

export interface NetworkCollectorOptions {
  procNet?: string;
  sysClassNet?: string;
  resolvConf?: string;
  hostsFile?: string;
  /** The host's own name, whose /etc/hosts entries are skipped. */
  hostname?: string;
  /** Name lookup (default: dns.promises.lookup with `all`). */
  lookup?: LookupAll;
  /** Per name lookup and per TLS handshake. */
  timeoutMs?: number;
  /** Listening ports in this range are only counted; default the kernel's range, `null` lists all. */
  ephemeralPorts?: PortRange | null;
  /** Loads systeminformation (the fallback where `sysClassNet` cannot be read). */
  systemInformation?: SystemInformationLoader;
}

export function createNetworkCollector({
  procNet = '/proc/net',
  sysClassNet = '/sys/class/net',
  resolvConf = '/etc/resolv.conf',
  hostsFile = '/etc/hosts',
  hostname,
  lookup,
  timeoutMs = 5_000,
  ephemeralPorts,
  systemInformation,
}: NetworkCollectorOptions = {}): Collector {
  return {
    name: 'network',
    async collect({ config, signal }) {
      const parts = await Promise.all([
        collectInterfaceFacts({ sysClassNet, ...(systemInformation ? { systemInformation } : {}) }),
        collectGatewayFacts(procNet),
        collectDnsFacts({ resolvConf }),
        collectHostsFacts(hostname === undefined ? { hostsFile } : { hostsFile, hostname }),
        collectResolveFacts(config.watch.resolve, { timeoutMs, signal, ...(lookup ? { lookup } : {}) }),
        collectTlsFacts(config.watch.tls, { timeoutMs, signal }),
        collectListenFacts(procNet, ephemeralPorts),
      ]);
      return Object.assign({}, ...parts) as FactMap;
    },
  };
}

export const networkCollector: Collector = createNetworkCollector();
