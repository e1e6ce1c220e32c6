import type { Collector } from './types.js';

/** Placeholder until the config collector lands. */
export const configCollector: Collector = {
  name: 'config',
  async collect() {
    throw new Error('the config collector is not implemented yet');
  },
};
