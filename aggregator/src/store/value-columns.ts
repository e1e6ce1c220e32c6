/** How fact values are stored in nullable TEXT columns (changes, drift events). */
import type { FactValue } from '@envparity/shared';

/** JSON of a fact value for a nullable column: SQL NULL means absent (JSON `null` is a value). */
export function valueColumn(value: FactValue | undefined): string | null {
  return value === undefined ? null : JSON.stringify(value);
}
