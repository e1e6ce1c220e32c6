/**
 * Dashboard sessions and one-time sign-in codes, held in memory by the aggregator.
 *
 * A browser never holds an API token: signing in exchanges the token (or a one-time code) for a
 * random session id in an HttpOnly cookie. The server keeps only the sha256 of each session id and
 * code, so a heap dump or a log line cannot be replayed as a cookie. Sessions end at sign-out, at
 * their expiry, when the token behind them is revoked (checked on every request) and when the
 * aggregator restarts (sign in again: the token is the durable credential, not the session).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ApiPrincipal } from '../http/api-auth.js';

/** How long a session lasts from sign-in. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
/** How long a one-time sign-in code stays valid. */
export const SIGN_IN_CODE_TTL_MS = 15 * 60 * 1000;
/** At most this many live sessions; the oldest goes first (a script signing in in a loop cannot fill memory). */
export const MAX_SESSIONS = 10_000;
/**
 * At most this many live sessions per principal: past it, that principal's oldest goes, so one
 * token signing in in a loop cycles its own sessions instead of pushing everyone else out.
 */
export const MAX_SESSIONS_PER_PRINCIPAL = 100;
/** At most this many unused sign-in codes per principal (the oldest goes first), and in all. */
export const MAX_CODES_PER_PRINCIPAL = 20;
export const MAX_CODES = 1_000;

export interface Session {
  principal: ApiPrincipal;
  /** The token's sha256 when the session came from a stored token: revoking it ends the session. */
  tokenHash: string | undefined;
  /** Sent back in every form; a POST without it is refused (CSRF). */
  csrfToken: string;
  expiresAt: number;
}

const digest = (secret: string): string => createHash('sha256').update(secret).digest('hex');
const randomSecret = (): string => randomBytes(32).toString('base64url');

export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly codes = new Map<
    string,
    { principal: ApiPrincipal; tokenHash: string | undefined; expiresAt: number }
  >();

  constructor(private readonly now: () => number = Date.now) {}

  /** Starts a session; resolves with the id for the cookie (never stored in clear). */
  create(principal: ApiPrincipal, tokenHash: string | undefined): { id: string; session: Session } {
    this.sweep();
    dropOldest(this.sessions, MAX_SESSIONS_PER_PRINCIPAL, (entry) => entry.principal.id === principal.id);
    dropOldest(this.sessions, MAX_SESSIONS);
    const id = randomSecret();
    const session: Session = {
      principal,
      tokenHash,
      csrfToken: randomSecret(),
      expiresAt: this.now() + SESSION_TTL_MS,
    };
    this.sessions.set(digest(id), session);
    return { id, session };
  }

  /** The live session of a cookie value, else undefined (unknown or expired). */
  get(id: string): Session | undefined {
    const key = digest(id);
    const session = this.sessions.get(key);
    if (session && session.expiresAt <= this.now()) {
      this.sessions.delete(key);
      return undefined;
    }
    return session;
  }

  destroy(id: string): void {
    this.sessions.delete(digest(id));
  }

  /** A one-time code that signs a browser in as `principal` (for `npm start`'s sign-in link). */
  mintCode(principal: ApiPrincipal, tokenHash: string | undefined): { code: string; expiresAt: number } {
    this.sweep();
    dropOldest(this.codes, MAX_CODES_PER_PRINCIPAL, (entry) => entry.principal.id === principal.id);
    dropOldest(this.codes, MAX_CODES);
    const code = randomSecret();
    const expiresAt = this.now() + SIGN_IN_CODE_TTL_MS;
    this.codes.set(digest(code), { principal, tokenHash, expiresAt });
    return { code, expiresAt };
  }

  /** Whether a code is live, without using it up (the link's page shows a button, the post redeems). */
  hasCode(code: string): boolean {
    const entry = this.codes.get(digest(code));
    return entry !== undefined && entry.expiresAt > this.now();
  }

  /** Uses up a code: the principal it was minted for, else undefined (unknown, used or expired). */
  redeemCode(code: string): { principal: ApiPrincipal; tokenHash: string | undefined } | undefined {
    const key = digest(code);
    const entry = this.codes.get(key);
    this.codes.delete(key);
    if (!entry || entry.expiresAt <= this.now()) return undefined;
    return { principal: entry.principal, tokenHash: entry.tokenHash };
  }

  get size(): number {
    return this.sessions.size;
  }

  private sweep(): void {
    const at = this.now();
    for (const [key, session] of this.sessions) if (session.expiresAt <= at) this.sessions.delete(key);
    for (const [key, code] of this.codes) if (code.expiresAt <= at) this.codes.delete(key);
  }
}

/**
 * Deletes the oldest entries (maps keep insertion order) until fewer than `max` of those `counted`
 * remain, making room for one more.
 */
function dropOldest<T>(entries: Map<string, T>, max: number, counted: (entry: T) => boolean = () => true): void {
  let count = 0;
  for (const entry of entries.values()) if (counted(entry)) count++;
  for (const [key, entry] of entries) {
    if (count < max) return;
    if (!counted(entry)) continue;
    entries.delete(key);
    count--;
  }
}
