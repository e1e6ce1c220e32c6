/**
 * Writes that change what the drift engine judges: exceptions, from the API or the exceptions
 * file. Each one tells the engine which environments to look at again, so no caller has to
 * remember to (a forgotten notification would leave justified drift open until the next report).
 */
import type { DriftEngine } from '../drift/drift-engine.js';
import { ConflictError } from '../errors.js';
import type { ExceptionRecord, FactStore, FileException, NewException } from '../store/fact-store.js';

export interface FleetCommandsDeps {
  store: Pick<FactStore, 'createException' | 'deleteException' | 'listExceptions' | 'replaceFileExceptions'>;
  drift: Pick<DriftEngine, 'exceptionsChanged'>;
}

export class FleetCommands {
  constructor(private readonly deps: FleetCommandsDeps) {}

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
