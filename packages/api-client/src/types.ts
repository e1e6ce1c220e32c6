/**
 * Shapes of the API answers, as far as clients read them (the aggregator's zod schemas are the
 * source; `routes.test.ts` checks the top-level properties against its OpenAPI document). Times are
 * ISO 8601 strings; an absent value is an absent key, never `null` (`null` is a fact value).
 */

export type FactValue = string | number | boolean | null | readonly (string | number | boolean | null)[];

export interface Health {
  status: string;
}

export interface EnvironmentSummary {
  name: string;
  hosts: number;
  online: number;
  fingerprint: string | null;
  stale: boolean;
  ties: number;
  outlierHosts: number;
  openDrift: number;
  upstream: string | null;
  downstream: string | null;
}

export interface Baseline {
  environment: string;
  hosts: number;
  stale: boolean;
  fingerprint: string | null;
  facts: Record<string, FactValue>;
  ties: { path: string; candidates: { value?: FactValue; hosts: number }[] }[];
  at?: string;
  hostsLeftOut?: number;
}

export type DifferenceStatus = 'drift' | 'justified' | 'scale' | 'secret-policy';

export interface Difference {
  path: string;
  category: string;
  from?: FactValue;
  to?: FactValue;
  status: DifferenceStatus;
  exception?: { id: string; reason: string };
  tie?: true;
  secretPolicy?: 'differ' | 'equal';
}

export interface CompareSide {
  kind: 'environment' | 'host';
  name: string;
  environment: string | null;
  fingerprint: string | null;
}

export interface CompareResult {
  from: string;
  to: string;
  parity: number;
  compared: number;
  differences: Difference[];
  sides: { from: CompareSide; to: CompareSide };
  fromAt?: string | null;
  toAt?: string | null;
}

export type Presence = 'online' | 'offline' | 'lost' | 'retired';

export interface HostSummary {
  id: string;
  environment: string | null;
  labels: Record<string, string>;
  online: boolean;
  lastSeen: string | null;
  fingerprint: string | null;
  presence?: Presence;
}

export interface HostDetail extends HostSummary {
  agentVersion: string | null;
  enrolledAt: string | null;
  facts: Record<string, FactValue>;
  retiredAt?: string | null;
  at?: string;
  historyStartsAt?: string;
}

export interface HostChange {
  at: string;
  seq: number;
  path: string;
  from?: FactValue;
  to?: FactValue;
  emergency?: true;
}

export interface EnvironmentChange extends HostChange {
  hostId: string;
}

export interface DriftEvent {
  id: string;
  kind: 'outlier' | 'environment' | 'emergency' | 'lost';
  environment: string;
  otherEnvironment?: string;
  hostId?: string;
  path: string;
  expected?: FactValue;
  actual?: FactValue;
  status: 'open' | 'resolved';
  openedAt: string;
  resolvedAt?: string;
  emergency?: boolean;
  upstream?: string;
  hosts?: string[];
  hostCount?: number;
  resolution?: string;
}

export interface PromotionItem {
  path: string;
  category: string;
  value: FactValue;
  previous?: FactValue;
  since: string;
  ageSeconds: number;
  fromHosts: number;
  fromTotal: number;
  toHosts: number;
  toTotal: number;
  action: string;
  toValue?: FactValue;
  fromValue?: FactValue;
}

export interface PromotionPair {
  from: string;
  to: string;
  counts: { waiting: number; outOfOrder: number; justified: number };
  waiting: PromotionItem[];
  outOfOrder: PromotionItem[];
  justified: { path: string; category: string; value: FactValue; exception: { id: string; reason: string } }[];
  note?: string;
}

export interface Promotion {
  at: string;
  pairs: PromotionPair[];
  note?: string;
  historyTruncated: boolean;
}

export type AuditStatus = 'drift' | 'expired' | 'expiring' | 'justified' | 'scale';
export type AuditCounts = Record<AuditStatus, number>;

export interface AuditPairSummary {
  from: string;
  to: string;
  kind: 'promotion' | 'other';
  parity: number;
  compared: number;
  counts: AuditCounts;
}

export interface AuditSummary {
  counts: AuditCounts;
  /** drift + expired: the differences that need action. */
  open: number;
  pairs: AuditPairSummary[];
  causes: {
    path: string;
    category: string;
    from?: FactValue;
    to?: FactValue;
    status: AuditStatus;
    pairs: { from: string; to: string; status: AuditStatus }[];
  }[];
}

export interface AuditSinceItem {
  from: string;
  to: string;
  path: string;
  category: string;
}

export interface AuditSince {
  audit: number;
  counts: { new: number; remediated: number; newlyJustified: number; stillOpen: number };
  new: AuditSinceItem[];
  remediated: AuditSinceItem[];
  newlyJustified: AuditSinceItem[];
  stillOpen: AuditSinceItem[];
}

export interface AuditDocument {
  schema: string;
  generatedAt: string;
  audit?: { id: number; at: string; author: string };
  note?: string;
  environments: string[];
  withoutHosts: string[];
  summary: AuditSummary;
  pairs: (AuditPairSummary & {
    differences: {
      path: string;
      category: string;
      from?: FactValue;
      to?: FactValue;
      status: AuditStatus;
      action: string | null;
    }[];
  })[];
  since?: AuditSince;
}

export interface RecordedAudit {
  id: number;
  at: string;
  author: string;
  environments: string[];
  note?: string;
  summary: AuditSummary;
}

export interface AuditListItem {
  id: number;
  at: string;
  author: string;
  environments: string[];
  note?: string;
  counts: AuditCounts;
  open: number;
}

export type AuditFormat = 'json' | 'markdown' | 'html' | 'csv';

/** A rendered audit file (`?format=markdown|html|csv|json`), as the server sent it. */
export interface AuditFile {
  body: string;
  contentType: string;
  /** From `Content-Disposition`, e.g. `envparity-audit-2026-01-31.md`. */
  filename: string | undefined;
}

export interface ParityException {
  id: string;
  path: string;
  environments: string[];
  reason: string;
  impact?: string;
  owner?: string;
  expiresAt: string | null;
  createdAt: string;
  createdBy?: string;
  expired: boolean;
  source: string;
}

export interface NewException {
  path: string;
  environments: string[];
  reason: string;
  impact?: string;
  owner?: string;
  expiresAt?: string | null;
}

export type TokenScope = 'read' | 'verify' | 'admin';

export interface ApiToken {
  id: string;
  name: string;
  scope: TokenScope;
  createdAt: string;
  revokedAt: string | null;
}

export interface CreatedToken {
  id: string;
  name: string;
  scope: TokenScope;
  /** The clear token: in this answer only. */
  token: string;
  createdAt: string;
}
