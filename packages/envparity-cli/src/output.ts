/** Where a command writes: stdout for results (tables or `--json`), stderr for notes and errors. */
import type { Style } from './style.js';
import { type Align, formatTable } from './table.js';

export interface TextSink {
  write(chunk: string): unknown;
}

export class Output {
  constructor(
    readonly stdout: TextSink,
    readonly stderr: TextSink,
    readonly style: Style,
    /** `--json`: commands print their answer as JSON instead of tables. */
    readonly json: boolean,
  ) {}

  /** One line (or several) on stdout. */
  print(text = ''): void {
    this.stdout.write(`${text}\n`);
  }

  printJson(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  table(headers: readonly string[], rows: readonly (readonly string[])[], align?: readonly Align[]): void {
    this.stdout.write(formatTable(headers, rows, { style: this.style, ...(align ? { align } : {}) }));
  }

  /** A dim remark on stdout ("no differences"), part of the human output only. */
  note(text: string): void {
    this.print(this.style.paint(text, 'dim'));
  }

  /** A warning on stderr, never mixed into results. */
  warn(text: string): void {
    this.stderr.write(`envparity: ${text}\n`);
  }
}
