import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';

const MACHINE_ID_FILES = ['/etc/machine-id', '/var/lib/dbus/machine-id'];

/**
 * Default host id: the hostname plus 8 hex chars of sha256(machine id), so ids stay readable and
 * unique even when cloned hosts share a hostname. Falls back to the hostname alone.
 */
export async function defaultHostId(): Promise<string> {
  const name =
    hostname()
      .replace(/[^A-Za-z0-9_.\-:]/g, '-')
      .slice(0, 100) || 'host';
  for (const file of MACHINE_ID_FILES) {
    try {
      const id = (await readFile(file, 'utf8')).trim();
      if (id) return `${name}-${createHash('sha256').update(id).digest('hex').slice(0, 8)}`;
    } catch {
      // try the next location
    }
  }
  return name;
}
