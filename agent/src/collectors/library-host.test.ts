import { describe, expect, it } from 'vitest';
import { newerSonameFirst } from './library-host.js';

describe('newerSonameFirst', () => {
  const names = ['libcrypto.so.1.1', 'libcrypto.so.3', 'libcrypto.so.1.0.2', 'libcrypto.so.10', 'libcrypto.so.1.1.1'];

  it('puts the highest soname version first', () => {
    expect([...names].sort(newerSonameFirst)).toEqual([
      'libcrypto.so.10',
      'libcrypto.so.3',
      'libcrypto.so.1.1.1',
      'libcrypto.so.1.1',
      'libcrypto.so.1.0.2',
    ]);
  });

  it('orders as the numeric localeCompare it replaces', () => {
    const byLocale = [...names].sort((a, b) => b.localeCompare(a, 'en', { numeric: true }));
    expect([...names].sort(newerSonameFirst)).toEqual(byLocale);
  });
});
