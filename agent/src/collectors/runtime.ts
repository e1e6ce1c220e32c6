import type { Collector } from './types.js';

/** Placeholder until the runtime collector lands. */
export const runtimeCollector: Collector = {
  name: 'runtime',
  async collect() {
    throw new Error('the runtime collector is not implemented yet');
  },
};
