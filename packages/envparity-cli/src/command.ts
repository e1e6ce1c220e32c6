/**
 * What a command is (name, usage, flags, how many positionals, its run function) and what it gets
 * to run (parsed flags, the output, a lazily built API client). Flags are parsed with
 * node:util parseArgs, strictly: an unknown flag is a UsageError.
 */
import type { EnvparityClient } from '@envparity/client';
import type { Connection } from './connection-config.js';
import type { Output } from './output.js';
import { UsageError } from './usage-error.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Placeholder in the help: `--env E`. */
  value?: string;
  description: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

export interface SubcommandSpec {
  usage: string;
  summary: string;
  /** Flags this subcommand takes (besides the global ones). */
  options: readonly string[];
  /** Positionals after the subcommand's name. */
  positionals: { min: number; max: number };
}

export interface CommandSpec {
  name: string;
  summary: string;
  /** Usage lines, after `envparity `. */
  usage: readonly string[];
  /** A paragraph under the usage in `--help`. */
  details?: string;
  options: OptionSpecs;
  positionals?: { min: number; max: number };
  /** `exceptions list|add|rm`: the first positional picks one. */
  subcommands?: Readonly<Record<string, SubcommandSpec>>;
  run(context: CommandContext): Promise<number>;
}

export type FlagValues = Readonly<Record<string, string | boolean | undefined>>;

export interface CommandContext {
  command: string;
  /** The subcommand (`add`), when the command has them. */
  subcommand: string | undefined;
  /** Positionals after the command (and after the subcommand). */
  positionals: readonly string[];
  values: FlagValues;
  out: Output;
  /** Milliseconds since the epoch, fixed for the run (durations count from it). */
  now: number;
  connection(): Promise<Connection>;
  client(): Promise<EnvparityClient>;
}

/** A string flag's value, or undefined. */
export function stringFlag(context: CommandContext, name: string): string | undefined {
  const value = context.values[name];
  return typeof value === 'string' ? value : undefined;
}

/** A string flag that must be there. */
export function requiredFlag(context: CommandContext, name: string, what: string): string {
  const value = stringFlag(context, name);
  if (value === undefined || value.trim() === '') {
    throw new UsageError(`--${name} is required: ${what}`, context.command);
  }
  return value;
}

export function booleanFlag(context: CommandContext, name: string): boolean {
  return context.values[name] === true;
}

/** `--environments a,b` -> ['a', 'b'] (blanks dropped). */
export function listFlag(context: CommandContext, name: string): string[] | undefined {
  const value = stringFlag(context, name);
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** One of a fixed set of words. */
export function choiceFlag<T extends string>(
  context: CommandContext,
  name: string,
  choices: readonly T[],
): T | undefined {
  const value = stringFlag(context, name);
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(`--${name} ${JSON.stringify(value)}: expected one of ${choices.join(', ')}`, context.command);
  }
  return value as T;
}

/** A positive integer flag (`--limit 50`). */
export function integerFlag(
  context: CommandContext,
  name: string,
  { min = 1, max = 1_000_000 } = {},
): number | undefined {
  const value = stringFlag(context, name);
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`--${name} ${JSON.stringify(value)}: expected a whole number ${min}-${max}`, context.command);
  }
  return Number(value);
}
