import type { Collector } from './types.js';

/** Placeholder until the probe collector lands. */
export const probeCollector: Collector = {
  name: 'probe',
  async collect() {
    throw new Error('the probe collector is not implemented yet');
  },
};
