/** Small helpers shared by the lockfile parsers. */

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** PEP 503 normalization: lowercase, runs of `-`, `_` and `.` become one `-`. */
export function normalizePythonName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

/**
 * The package name of an npm/yarn descriptor: `@babel/core@^7.0.0` -> `@babel/core`,
 * `lodash@npm:4.17.21` -> `lodash`. The name ends at the first `@` after its first character.
 */
export function descriptorName(descriptor: string): string {
  const at = descriptor.indexOf('@', 1);
  return at > 0 ? descriptor.slice(0, at) : descriptor;
}

/** Splits text into lines, accepting LF and CRLF. */
export function splitLines(text: string): string[] {
  return text.split(/\r?\n/);
}

/** The keys of the dependency maps of a package.json-like record. */
export function declaredNames(entry: Record<string, unknown>, fields: readonly string[]): string[] {
  const names: string[] = [];
  for (const field of fields) {
    const deps = entry[field];
    if (isRecord(deps)) names.push(...Object.keys(deps));
  }
  return names;
}

export const NPM_DEPENDENCY_FIELDS = ['dependencies', 'devDependencies', 'optionalDependencies'] as const;
