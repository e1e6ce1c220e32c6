/**
 * Expands a glob(3) pattern (`*`, `?`, `[...]`, `[!...]` per path component) over the host's files,
 * the way sshd expands `Include /etc/ssh/sshd_config.d/*.conf`: matches sorted, a leading `.` only
 * matched by a literal `.`, no match being an empty list rather than an error. Directories are read
 * through the HostFs so host mode expands inside the host root.
 */
import type { HostFs } from './host-fs.js';

const WILDCARD = /[*?[]/;

/** fnmatch(3) without flags but FNM_PERIOD, for one path component, as a RegExp. */
export function componentPattern(component: string): RegExp {
  let source = '';
  for (let i = 0; i < component.length; i++) {
    const ch = component[i] as string;
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else if (ch === '[') {
      const close = component.indexOf(']', i + 2);
      if (close === -1) {
        source += '\\[';
        continue;
      }
      let body = component.slice(i + 1, close);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      source += `[${negate ? '^' : ''}${body.replace(/[\\\]]/g, '\\$&')}]`;
      i = close;
    } else source += ch.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

/** Host paths matching an absolute `pattern`, sorted; a pattern without wildcards is itself when it exists. */
export async function expandHostGlob(host: HostFs, pattern: string): Promise<string[]> {
  const components = pattern.split('/').filter(Boolean);
  let prefixes = [''];
  for (const component of components) {
    const next: string[] = [];
    if (!WILDCARD.test(component)) {
      for (const prefix of prefixes) next.push(`${prefix}/${component}`);
    } else {
      const matcher = componentPattern(component);
      for (const prefix of prefixes) {
        const names = (await host.listDir(prefix || '/')).sort();
        for (const name of names) {
          if (name.startsWith('.') && !component.startsWith('.')) continue;
          if (matcher.test(name)) next.push(`${prefix}/${name}`);
        }
      }
    }
    prefixes = next;
    if (prefixes.length === 0) return [];
  }
  const existing: string[] = [];
  for (const path of prefixes) if (await host.exists(path)) existing.push(path);
  return existing.sort();
}
