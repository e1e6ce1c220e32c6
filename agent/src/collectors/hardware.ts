import type { Collector } from './types.js';

/** Placeholder until the hardware collector lands. */
export const hardwareCollector: Collector = {
  name: 'hardware',
  async collect() {
    throw new Error('the hardware collector is not implemented yet');
  },
};
