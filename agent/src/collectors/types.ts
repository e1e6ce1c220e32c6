import type { AgentConfig, FactMap } from '@envparity/shared';
import type { ExecOptions, ExecResult } from '../exec.js';
import type { SecretHasher } from '../secrets.js';
import { type HostFs, LOCAL_HOST_FS } from './host-fs.js';

/** What every collector gets: the config, the secret hasher, an abort signal and an async exec. */
export interface CollectorContext {
  readonly config: AgentConfig;
  readonly secrets: SecretHasher;
  /** Aborted when the collector's timeout fires; pass it on to child processes and sockets. */
  readonly signal: AbortSignal;
  /** Runs a program without a shell, never blocking the event loop; killed on abort or timeout. */
  exec(file: string, args: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /**
   * Records a partial failure (one probe of many, one unreadable file) in the document's `errors`
   * under this collector's name, while the collector still returns what it could collect.
   */
  reportError?(message: string): void;
  /**
   * The host's files: this machine's (`/`), or in host mode the host's mounted under `hostRoot`.
   * Every host path a collector reads goes through it (host-fs.ts). Absent means this machine.
   */
  readonly host?: HostFs;
}

/** The context's host files, this machine's when it names none. */
export function hostFsOf(context: Pick<CollectorContext, 'host'>): HostFs {
  return context.host ?? LOCAL_HOST_FS;
}

/**
 * One source of facts. A collector returns a flat fact map whose paths all start with one of the
 * brief's categories. It may throw: the runner records the error by name and keeps the others.
 */
export interface Collector {
  readonly name: string;
  /** Overrides the config's per-collector timeout (milliseconds). */
  readonly timeoutMs?: number;
  collect(context: CollectorContext): Promise<FactMap>;
}
