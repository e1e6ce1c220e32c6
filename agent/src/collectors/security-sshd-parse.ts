/**
 * Reads sshd_config and its `Include`s the way sshd does, without running sshd: keywords are
 * case-insensitive, `Keyword value` and `Keyword=value` both work, a token starting with `#` ends
 * the line, quoted arguments keep their spaces, and the FIRST value of a keyword wins, over the
 * files in the order sshd reads them (an Include is read where it stands, its glob matches sorted,
 * relative patterns taken from /etc/ssh). Lines after a `Match` apply only to matching connections:
 * what is reported is what applies to EVERY connection, as `sshd -T` without `-C` prints it: the
 * global lines, overridden by the lines of `Match all` blocks (which match any connection; sshd
 * copies a matched block's values over the global ones); other blocks are left out and their
 * criteria listed. A Match inside an included file ends with that file, and a file included from
 * inside a conditional block is all conditional (servconf.c restores the Match state after each
 * Include). Allow/Deny Users and Groups append over every line instead of first-wins, and a Match
 * block's list replaces the global one, as sshd does.
 */
import { isAbsolute } from 'node:path';
import type { HostFs } from './host-fs.js';
import { expandHostGlob } from './security-glob.js';

export const SSHD_CONFIG_PATH = '/etc/ssh/sshd_config';
/** Where sshd takes relative Include patterns from (SSHDIR). */
export const SSHD_DIR = '/etc/ssh';
/** servconf.c SERVCONF_MAX_DEPTH: deeper Includes are an error. */
export const SSHD_MAX_INCLUDE_DEPTH = 16;

/** Keywords sshd accumulates over lines rather than taking the first. */
const APPENDING_KEYWORDS = new Set(['allowusers', 'allowgroups', 'denyusers', 'denygroups']);
/** Old spellings sshd maps to the same option (OpenSSH 8.7+: ChallengeResponse is KbdInteractive). */
const KEYWORD_ALIASES: Record<string, string> = {
  challengeresponseauthentication: 'kbdinteractiveauthentication',
};

/** The settings of one context: the global lines, or the `Match all` blocks. */
export interface SshdSettings {
  /** Lowercased keyword -> the arguments of its first occurrence. */
  first: Map<string, string[]>;
  /** Lowercased appending keyword -> every argument of every line, in order. */
  appended: Map<string, string[]>;
}

export interface SshdConfig {
  /** `present` (the main file was read), `absent`, or `unreadable` (exists, not readable). */
  state: 'present' | 'absent' | 'unreadable';
  global: SshdSettings;
  /** Lines of `Match all` blocks: they apply to every connection, over the global ones. */
  everyConnection: SshdSettings;
  /** Criteria of each Match block (`User alice`, `Group sftp Address 10.0.0.0/8`), in order. */
  match: string[];
  /** Host paths read, in reading order (the main file first). */
  files: string[];
  /** Files that could not be read, Includes too deep. */
  errors: string[];
}

/** sshd's argv_split with comment termination: whitespace-separated, quotes grouped, `\` escapes. */
export function splitArguments(text: string): string[] {
  const args: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i] as string)) i++;
    if (i >= text.length || text[i] === '#') break;
    let arg = '';
    let quote: string | undefined;
    for (; i < text.length; i++) {
      const ch = text[i] as string;
      if (quote === undefined && /\s/.test(ch)) break;
      if (ch === '\\' && i + 1 < text.length && /["'\\\s]/.test(text[i + 1] as string)) {
        arg += text[++i];
      } else if (quote === undefined && (ch === '"' || ch === "'")) quote = ch;
      else if (ch === quote) quote = undefined;
      else arg += ch;
    }
    args.push(arg);
  }
  return args;
}

/** `Keyword value`, `Keyword=value` or `Keyword = value` -> [keyword, rest]; undefined for blank and comment lines. */
export function splitKeyword(line: string): [string, string] | undefined {
  const match = /^\s*([^\s=#][^\s=]*)(?:\s*=\s*|\s+|$)(.*)$/s.exec(line);
  if (!match) return undefined;
  return [match[1] as string, (match[2] as string).trim()];
}

interface ParseState {
  config: SshdConfig;
  host: HostFs;
}

/** Where a line's setting goes: the global settings, the `Match all` ones, or nowhere (conditional). */
type LineContext = 'global' | 'everyConnection' | 'conditional';

function emptySettings(): SshdSettings {
  return { first: new Map(), appended: new Map() };
}

/** The arguments that apply to every connection: a `Match all` block's first, else the global first. */
export function effectiveArguments(config: SshdConfig, keyword: string): string[] | undefined {
  const name = keyword.toLowerCase();
  return config.everyConnection.first.get(name) ?? config.global.first.get(name);
}

/** An appending keyword's list for every connection: a `Match all` block's list replaces the global one. */
export function effectiveList(config: SshdConfig, keyword: string): string[] {
  const name = keyword.toLowerCase();
  return config.everyConnection.appended.get(name) ?? config.global.appended.get(name) ?? [];
}

/** Reads `path` (default /etc/ssh/sshd_config) and every file it includes, from the host's files. */
export async function readSshdConfig(host: HostFs, path = SSHD_CONFIG_PATH): Promise<SshdConfig> {
  const config: SshdConfig = {
    state: 'present',
    global: emptySettings(),
    everyConnection: emptySettings(),
    match: [],
    files: [],
    errors: [],
  };
  const text = await host.readText(path);
  if (text === undefined) {
    config.state = (await host.exists(path)) ? 'unreadable' : 'absent';
    return config;
  }
  await parseFile({ config, host }, path, text, 'global', 0);
  return config;
}

async function parseFile(state: ParseState, path: string, text: string, start: LineContext, depth: number) {
  const { config } = state;
  config.files.push(path);
  let context = start;
  for (const line of text.split(/\r?\n/)) {
    const split = splitKeyword(line);
    if (!split) continue;
    const keyword = split[0].toLowerCase();
    const args = splitArguments(split[1]);
    if (keyword === 'match') {
      config.match.push(args.join(' '));
      const matchesAll = args.length === 1 && args[0]?.toLowerCase() === 'all';
      // In a file included from a conditional block, even `Match all` never applies (SSHCFG_NEVERMATCH).
      context = matchesAll && start !== 'conditional' ? 'everyConnection' : 'conditional';
      continue;
    }
    if (keyword === 'include') {
      await parseIncludes(state, args, context, depth + 1);
      continue;
    }
    if (context === 'conditional' || args.length === 0) continue;
    const settings = config[context];
    const name = KEYWORD_ALIASES[keyword] ?? keyword;
    if (APPENDING_KEYWORDS.has(name)) settings.appended.set(name, [...(settings.appended.get(name) ?? []), ...args]);
    else if (!settings.first.has(name)) settings.first.set(name, args);
  }
}

async function parseIncludes(state: ParseState, patterns: string[], context: LineContext, depth: number) {
  const { config, host } = state;
  if (depth > SSHD_MAX_INCLUDE_DEPTH) {
    config.errors.push(`Include nested deeper than ${SSHD_MAX_INCLUDE_DEPTH} levels: not read`);
    return;
  }
  for (const pattern of patterns) {
    const absolute = isAbsolute(pattern) ? pattern : `${SSHD_DIR}/${pattern}`;
    for (const file of await expandHostGlob(host, absolute)) {
      const text = await host.readText(file);
      if (text === undefined) {
        if (!(await host.isDirectory(file))) config.errors.push(`${file}: unreadable`);
        continue;
      }
      await parseFile(state, file, text, context, depth);
    }
  }
}
