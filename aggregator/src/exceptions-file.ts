/**
 * Exceptions kept as code: the config's `exceptions:` file (YAML or JSON), loaded at start and on
 * SIGHUP, merged with the API-created ones. Each entry has the fields of `POST /api/v1/exceptions`
 * plus an optional stable `id`; a problem is reported naming the file and the entry, in the same
 * words the API uses. A file that does not load at start stops the start (exit 2); on SIGHUP the
 * previous set stays in force and the problem is logged.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ConfigError, compareStrings, compilePathGlob, parseConfigText } from '@envparity/shared';
import type { Logger } from 'pino';
import { z } from 'zod';
import { createExceptionBodySchema } from './http/api-schemas.js';
import { EXCEPTION_FIELD_HINTS } from './http/exceptions-routes.js';
import { describeValidationError } from './http/validation-messages.js';
import type { EnvironmentCatalog } from './queries/environment-catalog.js';
import type { FleetCommands } from './queries/fleet-commands.js';
import { securityExceptionProblem } from './queries/security-exceptions.js';
import type { FileException } from './store/fact-store.js';

/** `source` of the exceptions loaded from `file` (shown by `GET /api/v1/exceptions`). */
export function exceptionsFileSource(file: string): string {
  return `file:${file}`;
}

const fileEntrySchema = createExceptionBodySchema.extend({
  id: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'ids are 1-100 letters, digits and _ . : -')
    .optional(),
});

const FILE_HINTS = { ...EXCEPTION_FIELD_HINTS, id: 'a stable name for the exception, e.g. "staging-debug-logs"' };

/** The id of an entry without one: stable while its path and environments stay the same. */
export function fileExceptionId(path: string, environments: readonly string[]): string {
  const digest = createHash('sha256')
    .update(`${path}\0${[...environments].sort(compareStrings).join('\0')}`)
    .digest('hex');
  return `file-${digest.slice(0, 12)}`;
}

/**
 * Parses and validates an exceptions document: a list of entries, or `{exceptions: [...]}`.
 * Environments must be known (reported by a host or declared in the config). Expired entries are
 * fine: they stay listed and stop matching, as API ones do.
 */
export function parseExceptionsFile(
  text: string,
  { file, known, now }: { file: string; known: EnvironmentCatalog; now: number },
): FileException[] {
  const document = parseConfigText(text, file);
  const list =
    document === null || document === undefined
      ? []
      : Array.isArray(document)
        ? document
        : typeof document === 'object' && Array.isArray((document as { exceptions?: unknown }).exceptions)
          ? ((document as { exceptions: unknown[] }).exceptions as unknown[])
          : undefined;
  if (!list) {
    throw new ConfigError(`${file}: expected a list of exceptions (or \`exceptions:\` holding one)`, 'exceptions');
  }
  const names = known.environments();
  const seen = new Map<string, number>();
  return list.map((entry, index) => {
    const label = `${file}: exception ${index + 1}${describeEntry(entry)}`;
    const parsed = fileEntrySchema.safeParse(entry);
    if (!parsed.success) {
      const { message } = describeValidationError(parsed.error, entry, {
        source: 'body',
        schema: fileEntrySchema,
        hints: FILE_HINTS,
      });
      throw new ConfigError(`${label}: ${message.replace(/^invalid body: /, '')}`, 'exceptions');
    }
    const value = parsed.data;
    try {
      compilePathGlob(value.path);
    } catch (error) {
      throw new ConfigError(
        `${label}: \`path\` is not a valid path glob (${(error as Error).message}): ${EXCEPTION_FIELD_HINTS.path}`,
        'exceptions',
      );
    }
    for (const name of value.environments) {
      if (!names.includes(name)) {
        throw new ConfigError(
          `${label}: unknown environment ${JSON.stringify(name)}: declare it in the aggregator config ` +
            `(\`environments:\`) or let a host report it${names.length > 0 ? `; known: ${names.join(', ')}` : ''}`,
          'exceptions',
        );
      }
    }
    const id = value.id ?? fileExceptionId(value.path, value.environments);
    const previous = seen.get(id);
    if (previous !== undefined) {
      throw new ConfigError(
        `${label}: same ${value.id ? '`id`' : 'path and environments'} as exception ${previous + 1}: merge them or give each its own \`id\``,
        'exceptions',
      );
    }
    seen.set(id, index);
    const out: FileException = {
      id,
      path: value.path,
      environments: value.environments,
      reason: value.reason,
      expiresAt: value.expiresAt ? Date.parse(value.expiresAt) : null,
      createdAt: now,
    };
    if (value.impact !== undefined) out.impact = value.impact;
    if (value.owner !== undefined) out.owner = value.owner;
    const problem = securityExceptionProblem(out, now);
    if (problem) throw new ConfigError(`${label}: ${problem.message}`, 'exceptions');
    return out;
  });
}

function describeEntry(entry: unknown): string {
  const path = entry && typeof entry === 'object' ? (entry as { path?: unknown }).path : undefined;
  return typeof path === 'string' && path.length > 0 ? ` (path ${path})` : '';
}

export interface ExceptionsFileLoader {
  /**
   * Loads the file and replaces the file exceptions (none when no file is configured), telling the
   * drift engine which environments changed. Throws ConfigError (the previous set stays).
   */
  load(): Promise<{ count: number; changed: string[] }>;
  /** `load()` for SIGHUP: a failure is logged, never thrown; resolves with whether it loaded. */
  reload(): Promise<boolean>;
}

export function createExceptionsFileLoader({
  file,
  exceptions,
  known,
  logger,
  now = Date.now,
}: {
  /** Resolved path of the exceptions file; undefined: no file (file exceptions are removed). */
  file: string | undefined;
  /** The commands: replacing file exceptions also tells the drift engine. */
  exceptions: Pick<FleetCommands, 'replaceFileExceptions'>;
  known: EnvironmentCatalog;
  logger: Logger;
  now?: () => number;
}): ExceptionsFileLoader {
  const source = file === undefined ? 'file:' : exceptionsFileSource(file);
  async function load() {
    let entries: FileException[] = [];
    if (file !== undefined) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (cause) {
        throw new ConfigError(`${file}: cannot read the exceptions file: ${(cause as Error).message}`, 'exceptions', {
          cause,
        });
      }
      entries = parseExceptionsFile(text, { file, known, now: now() });
    }
    const changed = await exceptions.replaceFileExceptions(source, entries);
    if (file !== undefined) logger.info({ file, exceptions: entries.length, changed }, 'exceptions file loaded');
    return { count: entries.length, changed };
  }
  // Reloads run one after the other: two quick SIGHUPs never interleave their writes.
  let queue: Promise<unknown> = Promise.resolve();
  const serialLoad = () => {
    const next = queue.then(load);
    queue = next.catch(() => undefined);
    return next;
  };
  return {
    load: serialLoad,
    async reload() {
      if (file === undefined) {
        logger.warn('SIGHUP: no exceptions file is configured (config `exceptions:`): nothing to reload');
        return false;
      }
      try {
        await serialLoad();
        return true;
      } catch (error) {
        logger.error(
          { file, err: { message: (error as Error).message } },
          'exceptions file not reloaded: the previous exceptions stay in force',
        );
        return false;
      }
    },
  };
}
