/**
 * The shape of a parity audit, in the domain (times in ms). One value serves the live audit, the
 * recorded one (stored whole as JSON: an audit is evidence, never re-derived) and every export.
 */
import type { FactValue, SecretPolicyRule } from '@envparity/shared';

/** Version tag of the exported JSON document (`schema`). */
export const AUDIT_SCHEMA = 'envparity/audit/v1';

/**
 * `drift` (remediate or justify), `justified` (an active exception), `expiring` (justified by an
 * exception that expires within 7 days), `expired` (an exception that would match has expired and
 * the difference is back) and `scale` (sizes and counts, never drift).
 */
export const AUDIT_STATUSES = ['drift', 'expired', 'expiring', 'justified', 'scale'] as const;
export type AuditStatus = (typeof AUDIT_STATUSES)[number];

/** Statuses that need someone to act: remediate, or document the difference. */
export const OPEN_AUDIT_STATUSES: ReadonlySet<AuditStatus> = new Set(['drift', 'expired']);

/** A justification counts as expiring when its exception expires within this long. */
export const EXPIRING_WITHIN_MS = 7 * 86_400_000;

/** What to do about a difference of each status (null: nothing). */
export const AUDIT_ACTIONS: Readonly<Record<AuditStatus, string | null>> = {
  drift: 'remediate or justify',
  expired: 'remediate or justify',
  expiring: 'renew',
  justified: null,
  scale: null,
};

export type AuditCounts = Record<AuditStatus, number>;

export function emptyAuditCounts(): AuditCounts {
  return { drift: 0, expired: 0, expiring: 0, justified: 0, scale: 0 };
}

/** The exception behind a justified, expiring or expired difference, as recorded then. */
export interface AuditException {
  id: string;
  path: string;
  environments: string[];
  reason: string;
  impact?: string;
  owner?: string;
  /** ms, null for no expiry. */
  expiresAt: number | null;
}

export interface AuditDifference {
  path: string;
  category: string;
  /** Absent when only the `to` side has the path. */
  from?: FactValue;
  /** Absent when only the `from` side has the path. */
  to?: FactValue;
  status: AuditStatus;
  action: string | null;
  exception?: AuditException;
  /** A secret breaking the config `secretPolicy` (counted as drift): what the policy expected. */
  secretPolicy?: SecretPolicyRule['expect'];
  /** The path is tied in one side's baseline (no dominant value), so absent from it. */
  tie?: true;
}

/** `promotion`: neighbours in the promotion order among the audited environments; `other`: any other pair. */
export type AuditPairKind = 'promotion' | 'other';

export interface AuditPair {
  /** Upstream side (the reference). */
  from: string;
  to: string;
  kind: AuditPairKind;
  parity: number;
  compared: number;
  counts: AuditCounts;
  differences: AuditDifference[];
}

/** One difference (path and both values) shared by one or more pairs. */
export interface AuditCause {
  path: string;
  category: string;
  from?: FactValue;
  to?: FactValue;
  /** The most pressing status among the pairs (drift, expired, expiring, justified, scale). */
  status: AuditStatus;
  pairs: { from: string; to: string; status: AuditStatus }[];
}

/** Hosts of one environment that share a difference from its baseline. */
export interface AuditOutlierCause {
  path: string;
  category: string;
  /** Baseline value (absent: the baseline lacks the path). */
  expected?: FactValue;
  /** The hosts' value (absent: they lack the path). */
  actual?: FactValue;
  status: AuditStatus;
  action: string | null;
  exception?: AuditException;
  hostCount: number;
  /** The first hosts by id. */
  hosts: string[];
}

export interface AuditEnvironmentOutliers {
  environment: string;
  hosts: number;
  /** Hosts off the baseline in at least one behavior path. */
  outlierHosts: number;
  /** The largest groups (see `totalGroups`). */
  groups: AuditOutlierCause[];
  totalGroups: number;
}

export interface AuditPairSummary {
  from: string;
  to: string;
  kind: AuditPairKind;
  parity: number;
  compared: number;
  counts: AuditCounts;
}

export interface AuditSummary {
  /** Over every pair's differences. */
  counts: AuditCounts;
  /** drift + expired. */
  open: number;
  pairs: AuditPairSummary[];
  causes: AuditCause[];
  outliers: AuditEnvironmentOutliers[];
}

export interface AuditReport {
  generatedAt: number;
  /** Audited environments, promotion order first. */
  environments: string[];
  promotion: string[];
  /** Known environments left out of a default audit because no host has reported facts. */
  withoutHosts: string[];
  /** Only pairs including this environment were audited. */
  pairsWith?: string;
  /** The note given when the audit was recorded. */
  note?: string;
  summary: AuditSummary;
  pairs: AuditPair[];
}

/** A recorded audit's identity. */
export interface AuditRecordRef {
  id: number;
  at: number;
  author: string;
}

/** A difference's state in one audit, for the since-diff. */
export interface AuditDifferenceState {
  status: AuditStatus;
  from?: FactValue;
  to?: FactValue;
  exception?: AuditException;
}

/** One (pair, path) in a since-diff, with its state in the earlier and the later audit (absent: no difference). */
export interface AuditChange {
  from: string;
  to: string;
  path: string;
  category: string;
  earlier?: AuditDifferenceState;
  later?: AuditDifferenceState;
}

export interface AuditSince {
  /** The earlier audit's id. */
  audit: number;
  /** Open (drift or expired) now, not open then. */
  new: AuditChange[];
  /** Open then, neither open nor justified now (fixed, or gone). */
  remediated: AuditChange[];
  /** Open then, justified or expiring now. */
  newlyJustified: AuditChange[];
  /** Open in both. */
  stillOpen: AuditChange[];
  counts: { new: number; remediated: number; newlyJustified: number; stillOpen: number };
  /** Pairs audited in only one of the two audits (their differences are not diffed). */
  notCompared: { from: string; to: string; in: 'earlier' | 'later' }[];
}

/** A recorded audit as read back: its report, and the since-diff when asked. */
export interface RecordedAudit {
  audit: AuditRecordRef;
  report: AuditReport;
  since?: AuditSince;
}

/** What the list of recorded audits shows of each (the stored summary column). */
export interface RecordedAuditSummary extends AuditRecordRef {
  environments: string[];
  note?: string;
  counts: AuditCounts;
  open: number;
  pairs: AuditPairSummary[];
}
