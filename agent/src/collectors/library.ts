import type { Collector } from './types.js';

/** Placeholder until the library collector lands. */
export const libraryCollector: Collector = {
  name: 'library',
  async collect() {
    throw new Error('the library collector is not implemented yet');
  },
};
