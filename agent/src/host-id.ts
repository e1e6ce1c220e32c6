import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { type HostFs, LOCAL_HOST_FS, readFirstLineIn, readTrimmedIn } from './collectors/host-fs.js';

/** Host paths of the machine id (systemd's, then the older D-Bus copy). */
export const MACHINE_ID_FILES = ['/etc/machine-id', '/var/lib/dbus/machine-id'] as const;

/**
 * The host's name. On this machine the kernel's (os.hostname()); in host mode the host's
 * /etc/hostname, since the agent's own name is its container's (undefined when the file says nothing).
 */
export async function hostNameOf(host: HostFs = LOCAL_HOST_FS): Promise<string | undefined> {
  if (host.hostMode) return readFirstLineIn(host, '/etc/hostname');
  try {
    return hostname() || undefined;
  } catch {
    return undefined;
  }
}

/** The host's machine id, or undefined. */
export async function machineIdOf(host: HostFs = LOCAL_HOST_FS): Promise<string | undefined> {
  for (const file of MACHINE_ID_FILES) {
    const id = await readTrimmedIn(host, file);
    if (id) return id;
  }
  return undefined;
}

/**
 * Default host id: the hostname plus 8 hex chars of sha256(machine id), so ids stay readable and
 * unique even when cloned hosts share a hostname. Falls back to the hostname alone. In host mode
 * both come from the host's files (`host`), never from the agent's container.
 */
export async function defaultHostId(host: HostFs = LOCAL_HOST_FS): Promise<string> {
  const name = ((await hostNameOf(host)) ?? '').replace(/[^A-Za-z0-9_.\-:]/g, '-').slice(0, 100) || 'host';
  const id = await machineIdOf(host);
  return id ? `${name}-${createHash('sha256').update(id).digest('hex').slice(0, 8)}` : name;
}
