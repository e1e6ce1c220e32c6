/**
 * Accounts that matter for security, from the host's /etc/passwd and /etc/shadow:
 * - `security.accounts.uid0`: the names of every account with UID 0 (sorted; normally `["root"]`);
 * - `security.accounts.emptyPassword`: how many accounts log in with no password at all: an empty
 *   password field in /etc/passwd, or `x` there and an empty hash in /etc/shadow. A count only: no
 *   hash and no name of such an account leaves the host. `unreadable` when /etc/shadow cannot be
 *   read (the agent is not root): never guessed from /etc/passwd alone.
 */
import { type FactMap, factPath } from '@envparity/shared';
import type { HostFs } from './host-fs.js';

export interface PasswdEntry {
  name: string;
  password: string;
  uid: number;
}

/** `name:password:uid:...` lines; malformed lines are skipped. */
export function parsePasswd(text: string): PasswdEntry[] {
  const entries: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields.length < 4 || !fields[0] || !/^\d+$/.test(fields[2] as string)) continue;
    entries.push({ name: fields[0], password: fields[1] as string, uid: Number(fields[2]) });
  }
  return entries;
}

/** Names whose /etc/shadow hash field is empty (the hash itself is never kept). */
export function namesWithEmptyShadowHash(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields.length >= 2 && fields[0] && fields[1] === '') names.add(fields[0]);
  }
  return names;
}

/** Accounts that need no password: empty in passwd, or shadowed (`x`) with an empty shadow hash. */
export function countEmptyPasswords(passwd: readonly PasswdEntry[], emptyInShadow: ReadonlySet<string>): number {
  return passwd.filter((entry) => entry.password === '' || (entry.password === 'x' && emptyInShadow.has(entry.name)))
    .length;
}

export async function collectAccountFacts(host: HostFs, reportError?: (message: string) => void): Promise<FactMap> {
  const passwdText = await host.readText('/etc/passwd');
  if (passwdText === undefined) {
    reportError?.('security.accounts: /etc/passwd unreadable: not reported');
    return {};
  }
  const passwd = parsePasswd(passwdText);
  const facts: FactMap = {
    [factPath('security', 'accounts', 'uid0')]: passwd
      .filter((entry) => entry.uid === 0)
      .map((entry) => entry.name)
      .sort(),
  };
  const shadowText = await host.readText('/etc/shadow');
  facts[factPath('security', 'accounts', 'emptyPassword')] =
    shadowText === undefined ? 'unreadable' : countEmptyPasswords(passwd, namesWithEmptyShadowHash(shadowText));
  return facts;
}
