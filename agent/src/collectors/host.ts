import type { Collector } from './types.js';

/** Placeholder until the host collector lands. */
export const hostCollector: Collector = {
  name: 'host',
  async collect() {
    throw new Error('the host collector is not implemented yet');
  },
};
