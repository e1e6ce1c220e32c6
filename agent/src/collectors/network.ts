/**
 * The network collector: interfaces (MTU, state, addresses), default gateways, resolver config,
 * /etc/hosts, resolution of declared names, certificates of declared TLS endpoints and listening
 * ports. Everything is read from /proc, /sys and /etc directly or through non-blocking Node APIs.
 * systeminformation, whose networkInterfaces() blocks the event loop, is only the fallback for
 * interface MTU and state where /sys/class/net cannot be read (network-interfaces.ts). Path
 * patterns and suggested classes: docs/FACTS.md.
 */
import type { FactMap } from '@envparity/shared';
import type { HostFs } from './host-fs.js';
import { sharesHostNamespace } from './host-namespace.js';
import { collectDnsFacts, collectHostsFacts } from './network-dns.js';
import { collectInterfaceFacts } from './network-interfaces.js';
import { collectListenFacts, type PortRange, readEphemeralPortRange } from './network-listen.js';
import { collectResolveFacts, type LookupAll } from './network-resolve.js';
import { collectGatewayFacts } from './network-route.js';
import { collectTlsFacts } from './network-tls.js';
import type { SystemInformationLoader } from './system-information.js';
import { type Collector, type CollectorContext, hostFsOf } from './types.js';

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

export function createNetworkCollector(options: NetworkCollectorOptions = {}): Collector {
  const { hostname, lookup, timeoutMs = 5_000, ephemeralPorts, systemInformation } = options;
  return {
    name: 'network',
    async collect(context) {
      const { config, signal } = context;
      const host = hostFsOf(context);
      const paths = host.hostMode ? await hostNetworkPaths(host, context) : undefined;
      const procNet = options.procNet ?? paths?.procNet ?? '/proc/net';
      const sysClassNet = options.sysClassNet ?? paths?.sysClassNet ?? '/sys/class/net';
      const resolvConf = options.resolvConf ?? paths?.resolvConf ?? '/etc/resolv.conf';
      const hostsFile = options.hostsFile ?? paths?.hostsFile ?? '/etc/hosts';
      const resolvedUpstreamConf = paths?.resolvedUpstreamConf;
      const ownName = hostname ?? paths?.hostname;
      const parts = await Promise.all([
        collectInterfaceFacts({
          sysClassNet,
          ...(systemInformation ? { systemInformation } : {}),
          // In host mode node:os and systeminformation describe the agent's network namespace.
          ...(paths && !paths.sameNetwork ? { agentNetworkIsHost: false } : {}),
        }),
        collectGatewayFacts(procNet),
        collectDnsFacts(resolvedUpstreamConf ? { resolvConf, resolvedUpstreamConf } : { resolvConf }),
        collectHostsFacts(ownName === undefined ? { hostsFile } : { hostsFile, hostname: ownName }),
        collectResolveFacts(config.watch.resolve, { timeoutMs, signal, ...(lookup ? { lookup } : {}) }),
        collectTlsFacts(config.watch.tls, { timeoutMs, signal }),
        collectListenFacts(
          procNet,
          ephemeralPorts !== undefined || !paths ? ephemeralPorts : await paths.ephemeralPorts,
        ),
      ]);
      return Object.assign({}, ...parts) as FactMap;
    },
  };
}

interface HostNetworkPaths {
  procNet: string;
  sysClassNet: string;
  resolvConf: string;
  resolvedUpstreamConf: string;
  hostsFile: string;
  hostname?: string;
  sameNetwork: boolean;
  ephemeralPorts: Promise<PortRange | null>;
}

/**
 * Host mode: the host's network as its files say. /proc/net is per network namespace, so the
 * sockets and routes are read from the host's PID 1 (`proc/1/net` under the root), /sys/class/net
 * from the host's sysfs, resolv.conf and hosts from its /etc (symlinks such as systemd-resolved's
 * stub resolved inside the root). Interface addresses come from node:os only when the agent shares
 * the host's network namespace; names resolved and TLS endpoints are asked from the agent's network.
 */
async function hostNetworkPaths(
  host: HostFs,
  context: Pick<CollectorContext, 'reportError'>,
): Promise<HostNetworkPaths> {
  const local = async (path: string) => host.local(path).catch(() => host.lexical(path));
  const [procNet, sysClassNet, resolvConf, resolvedUpstreamConf, hostsFile, hostname, sameNetwork] = await Promise.all([
    local('/proc/1/net'),
    local('/sys/class/net'),
    local('/etc/resolv.conf'),
    local('/run/systemd/resolve/resolv.conf'),
    local('/etc/hosts'),
    host.readText('/etc/hostname'),
    sharesHostNamespace(host, 'net'),
  ]);
  if (!sameNetwork) {
    context.reportError?.(
      "network.interface.*.addresses: the agent does not share the host's network namespace (run it with the host network): not reported",
    );
  }
  // Unreadable: null lists every port (never the agent's own range).
  const ephemeralPorts = readEphemeralPortRange(await local('/proc/sys'));
  const name = hostname?.split('\n', 1)[0]?.trim();
  return {
    procNet,
    sysClassNet,
    resolvConf,
    resolvedUpstreamConf,
    hostsFile,
    ...(name ? { hostname: name } : {}),
    sameNetwork,
    ephemeralPorts,
  };
}

export const networkCollector: Collector = createNetworkCollector();
