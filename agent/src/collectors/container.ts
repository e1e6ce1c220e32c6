import type { Collector } from './types.js';

/** Placeholder until the container collector lands. */
export const containerCollector: Collector = {
  name: 'container',
  async collect() {
    throw new Error('the container collector is not implemented yet');
  },
};
