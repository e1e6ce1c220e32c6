/**
 * Parser for the output of `rpm -qa --qf RPM_QUERY_FORMAT`: one `name\tversion\tarch` line per
 * installed package, the version being `[epoch:]version-release` as `rpm -q` shows it.
 */

/** The query format whose output `parseRpmQuery` reads. */
export const RPM_QUERY_FORMAT = '%{NAME}\\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\\t%{ARCH}\\n';

/**
 * Name -> version. A name installed for several architectures (multilib `glibc.x86_64` and
 * `glibc.i686`) is keyed `name.arch`, as rpm itself spells it; a name installed in several versions
 * for one architecture (kernels) maps to the sorted list of versions. The `gpg-pubkey` pseudo
 * packages (imported signing keys) are skipped.
 */
export function parseRpmQuery(text: string): Map<string, string | string[]> {
  const byName = new Map<string, { arch: string; version: string }[]>();
  for (const line of text.split('\n')) {
    const [name, version, arch = ''] = line.trim().split('\t');
    if (!name || !version || name === 'gpg-pubkey') continue;
    let entries = byName.get(name);
    if (!entries) {
      entries = [];
      byName.set(name, entries);
    }
    entries.push({ arch, version });
  }
  const result = new Map<string, string | string[]>();
  for (const name of [...byName.keys()].sort()) {
    const entries = byName.get(name) ?? [];
    const arches = new Set(entries.map((entry) => entry.arch));
    for (const arch of [...arches].sort()) {
      const key = arches.size > 1 ? `${name}.${arch}` : name;
      const versions = [...new Set(entries.filter((e) => e.arch === arch).map((e) => e.version))].sort();
      result.set(key, versions.length === 1 ? (versions[0] as string) : versions);
    }
  }
  return result;
}
