/**
 * ANSI colors, only when allowed: stdout is a TTY and `NO_COLOR` is unset (https://no-color.org),
 * unless `--color` / `--no-color` says otherwise. Status words have one tone each, so "drift" is
 * red wherever it appears.
 */

export const ANSI = {
  reset: '\u001b[0m',
  bold: '\u001b[1m',
  dim: '\u001b[2m',
  red: '\u001b[31m',
  green: '\u001b[32m',
  yellow: '\u001b[33m',
  blue: '\u001b[34m',
  cyan: '\u001b[36m',
} as const;

export type Tone = Exclude<keyof typeof ANSI, 'reset'>;

/** The tone of each status word the CLI prints. */
export const STATUS_TONES: Readonly<Record<string, Tone>> = {
  drift: 'red',
  'secret-policy': 'red',
  expired: 'red',
  open: 'red',
  lost: 'red',
  'out of order': 'red',
  error: 'red',
  expiring: 'yellow',
  offline: 'yellow',
  stale: 'yellow',
  waiting: 'yellow',
  justified: 'cyan',
  scale: 'blue',
  retired: 'dim',
  ok: 'green',
  online: 'green',
  active: 'green',
  resolved: 'green',
  equal: 'green',
  parity: 'green',
};

export interface ColorDecision {
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
  /** `--color` (true) or `--no-color` (false); undefined: decide from the TTY and NO_COLOR. */
  flag?: boolean | undefined;
}

/** Colors only on a TTY without NO_COLOR (a non-empty NO_COLOR disables), unless a flag forces it. */
export function colorAllowed({ isTTY, env, flag }: ColorDecision): boolean {
  if (flag !== undefined) return flag;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return isTTY;
}

const ANSI_PATTERN = /\u001b\[[0-9;]*m/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI_PATTERN, '');
}

/** Paints text (or returns it as is when colors are off). */
export interface Style {
  readonly color: boolean;
  paint(text: string, tone: Tone): string;
  /** A status word in its tone (`drift` red, `justified` cyan...); unknown words stay plain. */
  status(word: string): string;
}

export function createStyle(color: boolean): Style {
  const paint = (text: string, tone: Tone) => (color && text !== '' ? `${ANSI[tone]}${text}${ANSI.reset}` : text);
  return {
    color,
    paint,
    status(word) {
      const tone = STATUS_TONES[word];
      return tone ? paint(word, tone) : word;
    },
  };
}
