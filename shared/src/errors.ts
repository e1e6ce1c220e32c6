/** Errors raised by @envparity/shared. Each has a stable `code` that callers can switch on. */

export class EnvparityError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A fact path or path glob that does not follow the path syntax. */
export class PathSyntaxError extends EnvparityError {
  readonly path: string;
  constructor(message: string, path: string, options?: { cause?: unknown }) {
    super('PATH_SYNTAX', `invalid fact path ${JSON.stringify(path)}: ${message}`, options);
    this.path = path;
  }
}

/** An agent config file that does not parse or does not match the schema; `key` names the offending key. */
export class ConfigError extends EnvparityError {
  readonly key: string | undefined;
  constructor(message: string, key?: string, options?: { cause?: unknown }) {
    super('CONFIG_INVALID', message, options);
    this.key = key;
  }
}
