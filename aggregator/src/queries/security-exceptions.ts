/**
 * Security differences must be deliberate (issue 16 req 4): an exception whose glob can reach a
 * `security.**` path names an owner and expires within MAX_SECURITY_EXCEPTION_DAYS. One rule for
 * the API, the dashboard (FleetCommands) and the exceptions file.
 */
import { globReachesCategory } from '@envparity/shared';

/** Longest a security exception may run: a security difference is decided again at least twice a year. */
export const MAX_SECURITY_EXCEPTION_DAYS = 180;
const DAY_MS = 86_400_000;

/** What is missing for an exception that can cover security facts (field and words), or undefined. */
export function securityExceptionProblem(
  exception: { path: string; owner?: string | undefined; expiresAt: number | null },
  now: number,
): { field: 'owner' | 'expiresAt'; message: string } | undefined {
  if (!globReachesCategory(exception.path, 'security')) return undefined;
  const why = `\`${exception.path}\` can cover security.** facts, and a security difference must be deliberate`;
  if (exception.owner === undefined || exception.owner.trim() === '') {
    return { field: 'owner', message: `\`owner\` is required: ${why}; name who answers for it` };
  }
  const latest = now + MAX_SECURITY_EXCEPTION_DAYS * DAY_MS;
  if (exception.expiresAt === null || exception.expiresAt > latest) {
    return {
      field: 'expiresAt',
      message: `\`expiresAt\` is required, at most ${MAX_SECURITY_EXCEPTION_DAYS} days ahead (by ${new Date(latest).toISOString()}): ${why}`,
    };
  }
  return undefined;
}
