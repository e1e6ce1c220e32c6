/** yarn.lock: classic v1 or berry (2+), told apart by berry's `__metadata` block. */
import type { ParsedLockfile } from './types.js';
import { isYarnBerry, parseYarnBerry } from './yarn-berry.js';
import { parseYarnV1 } from './yarn-v1.js';

export function parseYarnLock(text: string): ParsedLockfile {
  return isYarnBerry(text) ? parseYarnBerry(text) : parseYarnV1(text);
}
