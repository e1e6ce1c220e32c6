/**
 * Who may join the fleet (issue 10, enrollment control), apart from the rate limits of
 * enrollment-guard.ts: approval mode, the cap on hosts waiting for approval, the cap on distinct
 * environments, and the enroll secret's minimum length. Config `enrollment:` (docs/SECURITY.md).
 */

/** `open`: the enroll secret is enough. `approve`: new hosts wait for `POST /api/v1/hosts/:id/approve`. */
export type EnrollmentMode = 'open' | 'approve';
export const ENROLLMENT_MODES: readonly EnrollmentMode[] = ['open', 'approve'];

/** Hosts that may wait for approval at once; past it, enrollments are refused until some are handled. */
export const DEFAULT_MAX_PENDING_HOSTS = 1000;
/**
 * Distinct environments hosts may create by naming them (enroll or hello). Per-PR previews make
 * hundreds normal; a holder of the enroll secret inventing millions is not.
 */
export const DEFAULT_MAX_ENVIRONMENTS = 2000;
/** How long an agent waiting for approval is told to wait before its next hello (default). */
export const PENDING_RETRY_SECONDS = 30;
/** How long an agent is told to wait when the pending queue is full. */
export const PENDING_FULL_RETRY_SECONDS = 300;
/** Enroll secrets shorter than this are refused at start (guessable), unless `--insecure-dev`. */
export const MIN_ENROLL_SECRET_LENGTH = 16;

export interface EnrollmentPolicy {
  mode: EnrollmentMode;
  maxPending: number;
  maxEnvironments: number;
  /** How long an agent waiting for approval waits between hellos (config `enrollment.pendingRetry`). */
  pendingRetrySeconds: number;
}

export const DEFAULT_ENROLLMENT_POLICY: EnrollmentPolicy = {
  mode: 'open',
  maxPending: DEFAULT_MAX_PENDING_HOSTS,
  maxEnvironments: DEFAULT_MAX_ENVIRONMENTS,
  pendingRetrySeconds: PENDING_RETRY_SECONDS,
};

/**
 * Why naming `environment` is refused, or undefined when it may be used: a known environment always
 * may; a new one only while fewer than `max` exist.
 */
export function environmentCapProblem(
  environment: string | null | undefined,
  known: readonly string[],
  max: number,
): string | undefined {
  if (environment === null || environment === undefined || known.includes(environment)) return undefined;
  if (known.length < max) return undefined;
  return `environment limit: ${known.length} environments exist (enrollment.maxEnvironments ${max}); ${JSON.stringify(environment)} is refused`;
}

/** Why the enroll secret cannot be used, or undefined. */
export function enrollSecretProblem(secret: string, insecureDev: boolean): string | undefined {
  if (insecureDev || secret.length >= MIN_ENROLL_SECRET_LENGTH) return undefined;
  return (
    `the enroll secret is ${secret.length} characters; at least ${MIN_ENROLL_SECRET_LENGTH} are required ` +
    '(a short secret can be guessed). Use a long random value (e.g. `openssl rand -base64 32`), ' +
    'or pass --insecure-dev for a throwaway local setup'
  );
}
