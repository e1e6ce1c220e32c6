import { categoryOf, type FactDocument, type FactValue } from '@envparity/shared';

const MAX_VALUE_WIDTH = 100;

function show(value: FactValue): string {
  const text = Array.isArray(value) ? value.map(String).join(', ') : String(value);
  return text.length > MAX_VALUE_WIDTH ? `${text.slice(0, MAX_VALUE_WIDTH - 1)}…` : text;
}

/**
 * Readable summary of a fact document, grouped by category. Long categories (packages) show their
 * first lines and a count, so the summary fits a terminal; `--json` has everything.
 */
export function formatSummary(document: FactDocument, { maxPerCategory = 25 } = {}): string {
  const byCategory = new Map<string, [string, FactValue][]>();
  for (const [path, value] of Object.entries(document.facts)) {
    const category = categoryOf(path);
    const list = byCategory.get(category) ?? [];
    list.push([path, value]);
    byCategory.set(category, list);
  }
  const lines: string[] = [
    `host ${document.hostId}${document.environment ? ` (environment ${document.environment})` : ''}`,
    `collected ${document.collectedAt} in ${document.durationMs} ms, ${Object.keys(document.facts).length} facts`,
  ];
  for (const [category, entries] of [...byCategory].sort(([a], [b]) => a.localeCompare(b))) {
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    lines.push('', `${category} (${entries.length})`);
    for (const [path, value] of entries.slice(0, maxPerCategory)) lines.push(`  ${path} = ${show(value)}`);
    if (entries.length > maxPerCategory) lines.push(`  … ${entries.length - maxPerCategory} more (use --json)`);
  }
  lines.push('', 'collectors');
  for (const c of document.collectors) {
    lines.push(
      `  ${c.name.padEnd(10)} ${String(c.durationMs).padStart(8)} ms ${String(c.facts).padStart(6)} facts${c.error ? `  ERROR: ${c.error}` : ''}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
