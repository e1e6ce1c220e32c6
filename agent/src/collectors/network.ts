import type { Collector } from './types.js';

/** Placeholder until the network collector lands. */
export const networkCollector: Collector = {
  name: 'network',
  async collect() {
    throw new Error('the network collector is not implemented yet');
  },
};
