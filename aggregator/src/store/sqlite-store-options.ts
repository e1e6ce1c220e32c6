/** Options of the SQLite fact store (the common ones in store-options.ts), and their defaults. */
import type { FactStoreOptions } from './store-options.js';

export * from './store-options.js';

/** How long a write waits for a lock held by another connection (e.g. a backup) before failing. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

export interface SqliteFactStoreOptions extends FactStoreOptions {
  /** Database file, or `:memory:` (the default) for tests. */
  path?: string;
  busyTimeoutMs?: number;
  /**
   * `full` (default): every commit is fsynced before the agents it acknowledges get their `ack`, so an
   * acknowledged report survives a power loss. `normal`: WAL commits are not fsynced (a process crash
   * loses nothing, a power loss can lose the last transactions although they were acknowledged).
   */
  synchronous?: StoreSynchronous;
  /** `PRAGMA quick_check` at open, refusing a damaged file (default true; store-integrity.ts). */
  quickCheckOnOpen?: boolean;
  /** The host-count sidecar file (default `<path>-meta.json` for a file, none for `:memory:`); null: none. */
  hostCountFile?: string | null;
}

/** `PRAGMA synchronous` of the store's connection. */
export type StoreSynchronous = 'full' | 'normal';
export const DEFAULT_STORE_SYNCHRONOUS: StoreSynchronous = 'full';
