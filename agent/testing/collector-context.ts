import { validateAgentConfig } from '@envparity/shared';
import type { CollectorContext } from '../src/collectors/types.js';
import { execCommand } from '../src/exec.js';
import { createSecretHasher } from '../src/secrets.js';

/** A collector context for tests: default config, a fixed hash key, the real async exec. */
export function createTestContext(): CollectorContext {
  return {
    config: validateAgentConfig({}),
    secrets: createSecretHasher('test-key', []),
    signal: new AbortController().signal,
    exec: (file, args, options) => execCommand(file, args, options),
  };
}
