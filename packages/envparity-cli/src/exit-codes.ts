/**
 * Exit codes of `envparity`, driftctl's and `envparity-agent verify`'s convention: 0 ok, 1 drift
 * found (only where a command is a check: `compare`, `audit --fail-on drift`), 2 error.
 */
import type { AuditSummary, Difference } from '@envparity/client';

export const EXIT_OK = 0;
export const EXIT_DRIFT = 1;
export const EXIT_ERROR = 2;

/** Statuses of a compare difference that fail the check; `justified` and `scale` do not. */
export const FAILING_COMPARE_STATUSES: ReadonlySet<string> = new Set(['drift', 'secret-policy']);

/** `compare`: 1 when any difference is drift or a secret-policy finding. */
export function compareExitCode(differences: readonly Pick<Difference, 'status'>[]): number {
  return differences.some((difference) => FAILING_COMPARE_STATUSES.has(difference.status)) ? EXIT_DRIFT : EXIT_OK;
}

/** `audit`: 1 with `--fail-on drift` when the audit has open differences (drift + expired). */
export function auditExitCode(summary: Pick<AuditSummary, 'open'>, failOn: 'drift' | undefined): number {
  return failOn === 'drift' && summary.open > 0 ? EXIT_DRIFT : EXIT_OK;
}
