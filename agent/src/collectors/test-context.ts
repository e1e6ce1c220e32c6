import { validateAgentConfig } from '@envparity/shared';
import { execCommand } from '../exec.js';
import { createSecretHasher } from '../secrets.js';
import type { CollectorContext } from './types.js';

/** A collector context for tests: default config, a fixed hash key, the real async exec. */
export function createTestContext(): CollectorContext {
  return {
    config: validateAgentConfig({}),
    secrets: createSecretHasher('test-key', []),
    signal: new AbortController().signal,
    exec: (file, args, options) => execCommand(file, args, options),
  };
}
