/**
 * Writes that change what the drift engine judges: exceptions, from the API, the dashboard or the
 * exceptions file. Each one tells the engine which environments to look at again, so no caller has
 * to remember to (a forgotten notification would leave justified drift open until the next report).
 * A request for a new exception (API body or dashboard form) is checked here, once, so both refuse
 * the same things with the same words.
 */
import { compilePathGlob } from '@envparity/shared';
import type { DriftEngine } from '../drift/drift-engine.js';
import { ConflictError, InvalidRequestError } from '../errors.js';
import type { ExceptionRecord, FactStore, FileException, NewException } from '../store/fact-store.js';
import { type EnvironmentCatalog, unknownEnvironmentMessage } from './environment-catalog.js';
import { securityExceptionProblem } from './security-exceptions.js';

/** What a bad `path` glob is told (the API's field hint for `path`). */
export const EXCEPTION_PATH_HINT = 'give the fact path or a glob, e.g. "config.env.LOG_LEVEL" or "library.pip.*"';

/** A new exception as asked for (already shaped by the API's body schema): times as ISO text. */
export interface ExceptionRequest {
  path: string;
  environments: readonly string[];
  reason: string;
  impact?: string | undefined;
  owner?: string | undefined;
  /** ISO 8601 with an offset; absent or null: no expiry. */
  expiresAt?: string | null | undefined;
}

export interface FleetCommandsDeps {
  store: Pick<FactStore, 'createException' | 'deleteException' | 'listExceptions' | 'replaceFileExceptions'>;
  drift: Pick<DriftEngine, 'exceptionsChanged'>;
  /** Known environments (FleetQueries.catalog): what an exception request may name. */
  catalog?: EnvironmentCatalog;
  now?: () => number;
}

export class FleetCommands {
  constructor(private readonly deps: FleetCommandsDeps) {}

  /**
   * Checks a request for a new exception (a valid glob, known environments, an expiry in the
   * future; for one that can cover security facts an owner and an expiry within 180 days;
   * InvalidRequestError naming the field otherwise) and creates it as `createdBy`.
   */
  async createExceptionRequest(
    request: ExceptionRequest,
    { createdBy }: { createdBy: string },
  ): Promise<ExceptionRecord> {
    const { catalog, now = Date.now } = this.deps;
    if (!catalog) throw new Error('FleetCommands needs `catalog` to check exception requests');
    try {
      compilePathGlob(request.path);
    } catch (error) {
      throw new InvalidRequestError(
        `invalid body: \`path\` is not a valid path glob (${(error as Error).message}): ${EXCEPTION_PATH_HINT}`,
        'path',
      );
    }
    const names = catalog.environments();
    request.environments.forEach((name, index) => {
      if (!names.includes(name)) {
        throw new InvalidRequestError(
          `invalid body: \`environments[${index}]\`: ${unknownEnvironmentMessage(catalog, name)}`,
          'environments',
        );
      }
    });
    const at = now();
    let expiresAt: number | null = null;
    if (request.expiresAt !== undefined && request.expiresAt !== null) {
      expiresAt = Date.parse(request.expiresAt);
      if (expiresAt <= at) {
        throw new InvalidRequestError(
          `invalid body: \`expiresAt\` must be in the future (it is ${request.expiresAt}, now is ${new Date(at).toISOString()}); leave it out for no expiry`,
          'expiresAt',
        );
      }
    }
    const problem = securityExceptionProblem({ ...request, expiresAt }, at);
    if (problem) throw new InvalidRequestError(`invalid body: ${problem.message}`, problem.field);
    return this.createException({
      path: request.path,
      environments: [...request.environments],
      reason: request.reason,
      ...(request.impact !== undefined ? { impact: request.impact } : {}),
      ...(request.owner !== undefined ? { owner: request.owner } : {}),
      expiresAt,
      createdAt: at,
      createdBy,
    });
  }

  async createException(input: NewException): Promise<ExceptionRecord> {
    const record = await this.deps.store.createException(input);
    this.deps.drift.exceptionsChanged(record.environments);
    return record;
  }

  /**
   * Deletes an exception the API created; resolves with it, or undefined when there is none with
   * this id. One of the exceptions file is a ConflictError: it is changed in the file only.
   */
  async deleteException(id: string): Promise<ExceptionRecord | undefined> {
    const record = this.deps.store.listExceptions().find((candidate) => candidate.id === id);
    if (record?.source !== undefined) {
      throw new ConflictError(
        `exception ${JSON.stringify(id)} comes from the exceptions file (${record.source.replace(/^file:/, '')}): ` +
          'remove it there and reload the aggregator (SIGHUP); the API deletes only exceptions it created',
      );
    }
    if (!record || !(await this.deps.store.deleteException(id))) return undefined;
    this.deps.drift.exceptionsChanged(record.environments);
    return record;
  }

  /** Replaces the exceptions of one file whole; resolves with the environments whose exceptions changed. */
  async replaceFileExceptions(source: string, exceptions: readonly FileException[]): Promise<string[]> {
    const changed = await this.deps.store.replaceFileExceptions(source, exceptions);
    if (changed.length > 0) this.deps.drift.exceptionsChanged(changed);
    return changed;
  }
}
