import type { Collector } from './types.js';

/** Placeholder until the os collector lands. */
export const osCollector: Collector = {
  name: 'os',
  async collect() {
    throw new Error('the os collector is not implemented yet');
  },
};
