/**
 * sshd's effective global settings that matter for security -> `security.sshd.<Keyword>` (the
 * keyword as sshd_config(5) spells it), from security-sshd-parse.ts. An absent keyword reports
 * OpenSSH's compiled-in default (servconf.c fill_default_server_options, stable since 8.7), except
 * the algorithm lists, whose defaults change with each OpenSSH release: there `default` is reported,
 * an explicit list as the list, and a list relative to the default (`+`, `-`, `^`) as `default`
 * followed by the configured text (`default+aes128-cbc`). Also `state`, `files` (read in order) and
 * `Match` (the criteria of every Match block, in order; only `Match all` blocks count in the values).
 */
import { type FactMap, type FactValue, factPath } from '@envparity/shared';
import type { HostFs } from './host-fs.js';
import {
  effectiveArguments,
  effectiveList,
  readSshdConfig,
  SSHD_CONFIG_PATH,
  type SshdConfig,
} from './security-sshd-parse.js';

/** OpenSSH defaults of the single-valued settings reported, by keyword as spelled in sshd_config(5). */
export const SSHD_DEFAULTS = {
  PermitRootLogin: 'prohibit-password',
  PasswordAuthentication: 'yes',
  PubkeyAuthentication: 'yes',
  KbdInteractiveAuthentication: 'yes',
  X11Forwarding: 'no',
  MaxAuthTries: 6,
} as const;

/** Algorithm lists: reported as configured, `default` when absent. */
export const SSHD_ALGORITHM_KEYWORDS = ['Ciphers', 'MACs', 'KexAlgorithms'] as const;
/** Access lists, appended over every line; an empty list means no restriction. */
export const SSHD_ACCESS_KEYWORDS = ['AllowUsers', 'AllowGroups', 'DenyUsers', 'DenyGroups'] as const;

/** `without-password` is the old spelling of `prohibit-password` (sshd -T still prints it). */
export function normalizePermitRootLogin(value: string): string {
  const lower = value.toLowerCase();
  return lower === 'without-password' ? 'prohibit-password' : lower;
}

function singleValue(config: SshdConfig, keyword: keyof typeof SSHD_DEFAULTS): FactValue {
  const configured = effectiveArguments(config, keyword)?.[0];
  if (configured === undefined) return SSHD_DEFAULTS[keyword];
  if (keyword === 'PermitRootLogin') return normalizePermitRootLogin(configured);
  if (keyword === 'MaxAuthTries') return /^\d+$/.test(configured) ? Number(configured) : configured;
  return configured.toLowerCase();
}

/** A configured algorithm list: the names, or `default` plus the text of a relative one. */
export function algorithmValue(configured: string | undefined): FactValue {
  if (configured === undefined) return 'default';
  if (/^[+\-^]/.test(configured)) return `default${configured}`;
  return configured.split(',').filter(Boolean);
}

/** The facts of a parsed config (pure: no file access). */
export function sshdFacts(config: SshdConfig): FactMap {
  const facts: FactMap = { [factPath('security', 'sshd', 'state')]: config.state };
  if (config.state !== 'present') return facts;
  for (const keyword of Object.keys(SSHD_DEFAULTS) as (keyof typeof SSHD_DEFAULTS)[]) {
    facts[factPath('security', 'sshd', keyword)] = singleValue(config, keyword);
  }
  for (const keyword of SSHD_ALGORITHM_KEYWORDS) {
    facts[factPath('security', 'sshd', keyword)] = algorithmValue(effectiveArguments(config, keyword)?.[0]);
  }
  for (const keyword of SSHD_ACCESS_KEYWORDS) {
    facts[factPath('security', 'sshd', keyword)] = effectiveList(config, keyword);
  }
  facts[factPath('security', 'sshd', 'Match')] = config.match;
  facts[factPath('security', 'sshd', 'files')] = config.files;
  return facts;
}

/** Reads the host's sshd_config; unreadable includes go to `reportError`. */
export async function collectSshdFacts(
  host: HostFs,
  reportError?: (message: string) => void,
  path = SSHD_CONFIG_PATH,
): Promise<FactMap> {
  const config = await readSshdConfig(host, path);
  for (const error of config.errors) reportError?.(`security.sshd: ${error}`);
  if (config.state === 'unreadable') reportError?.(`security.sshd: ${path} exists but cannot be read`);
  return sshdFacts(config);
}
