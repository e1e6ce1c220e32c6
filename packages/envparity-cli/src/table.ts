/**
 * The CLI's table: a header row and aligned columns, two spaces apart. Cells may carry ANSI colors
 * (widths are measured without them); the last column is not padded, so no line ends in spaces.
 */
import { type Style, stripAnsi } from './style.js';

export type Align = 'left' | 'right';

export interface TableOptions {
  style: Style;
  /** Per column; default left. */
  align?: readonly Align[];
  /** Cells longer than this (visible characters) are cut with `…`; default 80. 0: never. */
  maxCellWidth?: number;
}

export const DEFAULT_MAX_CELL_WIDTH = 80;

/** Visible width: ANSI escapes stripped, code points counted. */
export function visibleWidth(text: string): number {
  return [...stripAnsi(text)].length;
}

function truncate(cell: string, max: number): string {
  if (max <= 0 || visibleWidth(cell) <= max) return cell;
  // A colored cell is one painted word: cut the plain text, colors only matter for short status words.
  return `${[...stripAnsi(cell)].slice(0, max - 1).join('')}…`;
}

/** The table as text, one line per row (plus the header), ending in a newline. */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  options: TableOptions,
): string {
  const max = options.maxCellWidth ?? DEFAULT_MAX_CELL_WIDTH;
  const cells = rows.map((row) =>
    headers.map((_header, index) => truncate((row[index] ?? '').replace(/\n/g, ' '), max)),
  );
  const widths = headers.map((header, index) =>
    Math.max(visibleWidth(header), ...cells.map((row) => visibleWidth(row[index] ?? ''))),
  );
  const line = (row: readonly string[], isHeader: boolean) =>
    row
      .map((cell, index) => {
        const width = widths[index] ?? 0;
        const pad = ' '.repeat(Math.max(0, width - visibleWidth(cell)));
        const text = isHeader ? options.style.paint(cell, 'bold') : cell;
        const right = options.align?.[index] === 'right';
        if (right) return pad + text;
        return index === row.length - 1 ? text : text + pad;
      })
      .join('  ')
      .replace(/\s+$/, '');
  return [line(headers, true), ...cells.map((row) => line(row, false))].map((text) => `${text}\n`).join('');
}
