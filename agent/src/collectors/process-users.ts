/**
 * uid/gid -> name from /etc/passwd and /etc/group (no `getent` spawn), re-read only when the file
 * changed. Names are what is compared across hosts: the same service user often has a different
 * uid on each machine. An id without an entry (a container's arbitrary uid) is reported as its
 * number, as a string.
 */
import { readFile, stat } from 'node:fs/promises';

export const DEFAULT_PASSWD_FILE = '/etc/passwd';
export const DEFAULT_GROUP_FILE = '/etc/group';

/** `name:x:id:...` lines -> id -> name (the first entry of an id wins, as getpwuid answers). */
export function parseIdFile(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const fields = line.split(':');
    const id = Number(fields[2]);
    if (fields[0] && Number.isInteger(id) && !names.has(id)) names.set(id, fields[0]);
  }
  return names;
}

const cache = new Map<string, { key: string; names: Map<number, string> }>();

async function idNames(file: string): Promise<Map<number, string>> {
  try {
    const info = await stat(file);
    const key = `${info.ino}:${info.size}:${info.mtimeMs}`;
    const cached = cache.get(file);
    if (cached?.key === key) return cached.names;
    const names = parseIdFile(await readFile(file, 'utf8'));
    cache.set(file, { key, names });
    return names;
  } catch {
    return new Map();
  }
}

/** The name of an id in a passwd- or group-format file, else the id as a string. */
export async function idName(id: number, file: string): Promise<string> {
  return (await idNames(file)).get(id) ?? String(id);
}
