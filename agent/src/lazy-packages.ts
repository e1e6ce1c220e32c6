/**
 * Parsers the agent needs only when it meets their file format (a TOML, INI or dotenv config
 * file, a poetry.lock, a semver range in an expectation file), loaded on first use instead of at
 * start: each costs start-up time and heap that every `collect`, `verify` and daemon paid before,
 * on hosts that have no such file. Each is required synchronously (the parsers they serve are
 * synchronous) through its CommonJS entry; agent/scripts/bundle.mjs turns these exact
 * `createRequire(import.meta.url)('…')` calls into bundled `require`s.
 */
import { createRequire } from 'node:module';

type Dotenv = typeof import('dotenv');
type Ini = typeof import('ini');
type Semver = typeof import('semver');
type SmolToml = typeof import('smol-toml');

let dotenv: Dotenv | undefined;
let ini: Ini | undefined;
let semver: Semver | undefined;
let smolToml: SmolToml | undefined;

export function loadDotenv(): Dotenv {
  dotenv ??= createRequire(import.meta.url)('dotenv') as Dotenv;
  return dotenv;
}

export function loadIni(): Ini {
  ini ??= createRequire(import.meta.url)('ini') as Ini;
  return ini;
}

export function loadSemver(): Semver {
  semver ??= createRequire(import.meta.url)('semver') as Semver;
  return semver;
}

export function loadSmolToml(): SmolToml {
  smolToml ??= createRequire(import.meta.url)('smol-toml') as SmolToml;
  return smolToml;
}
