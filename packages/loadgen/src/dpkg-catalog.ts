/**
 * A snapshot of the dpkg database of a Debian 12 (bookworm) server/build image, `name version` per
 * line, in `data/dpkg-catalog.txt` (data, not code). The fleet model draws every simulated host's
 * package set and versions from it, so the names (with their dots, pluses and epochs) and version
 * strings are those of a real system. Read once, on first use; the same path from src/ and dist/.
 */
import { readFileSync } from 'node:fs';

let text: string | undefined;

export function dpkgCatalogText(): string {
  text ??= readFileSync(new URL('../data/dpkg-catalog.txt', import.meta.url), 'utf8');
  return text;
}
