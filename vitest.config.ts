import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Unit tests import @envparity/shared from source; cross-process tests in test/ run the built bins.
export default defineConfig({
  resolve: {
    alias: {
      '@envparity/shared': fileURLToPath(new URL('./shared/src/index.ts', import.meta.url)),
    },
  },
  test: {
    include: [
      'shared/src/**/*.test.ts',
      'agent/src/**/*.test.ts',
      'aggregator/src/**/*.test.ts',
      'packages/*/src/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
