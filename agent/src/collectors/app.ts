import type { Collector } from './types.js';

/** Placeholder until the app collector lands. */
export const appCollector: Collector = {
  name: 'app',
  async collect() {
    throw new Error('the app collector is not implemented yet');
  },
};
