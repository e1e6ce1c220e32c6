import { type Classifier, fingerprintFacts } from '@envparity/shared';
import { describe, expect, it } from 'vitest';
import { BlobIndex, CACHED_UNSHARED_ENCODING_CHARS } from './blob-index.js';

const classify: Classifier = (path) => (path.startsWith('hardware.memory') ? 'scale' : 'behavior');

describe('BlobIndex.fingerprints', () => {
  const shared = { 'os.name': 'Debian', 'os.version': '12' };
  const unique = { 'network.ipv4': '10.0.0.7', 'network.hostname': 'web-7' };
  const large: Record<string, string> = {};
  for (let i = 0; JSON.stringify(large).length < CACHED_UNSHARED_ENCODING_CHARS * 2; i++) {
    large[`library.dpkg.package-${i}`] = `1.${i}.0-1`;
  }

  const categories = new Map([
    ['library', 'library-blob'],
    ['network', 'network-blob'],
    ['os', 'os-blob'],
  ]);

  function index(): BlobIndex {
    const blobs = new BlobIndex(classify);
    blobs.load('os-blob', shared, 3);
    blobs.load('network-blob', unique, 1);
    blobs.load('library-blob', large, 1);
    return blobs;
  }

  it('is the fingerprint of the merged facts, whether an encoding was cached or not', () => {
    const blobs = index();
    const expected = fingerprintFacts({ ...shared, ...unique, ...large }, classify);
    for (let pass = 0; pass < 2; pass++) {
      const got = blobs.fingerprints(categories, (hash) => blobs.facts(hash));
      expect(got.fingerprint).toBe(expected.overall);
      expect(got.fingerprints).toEqual(expected.categories);
    }
  });

  it('caches the encodings of shared and of large blobs only', () => {
    const blobs = index();
    blobs.fingerprints(categories, (hash) => blobs.facts(hash));
    // os (3 hosts) and library (one host, but long) are kept; the host's own small network blob is not.
    expect(blobs.cachedEncodings).toBe(2);
    // Once a second host holds the network blob, its encoding is kept too.
    blobs.commit(new Map(), new Map([['network-blob', 1]]));
    blobs.fingerprints(categories, (hash) => blobs.facts(hash));
    expect(blobs.cachedEncodings).toBe(3);
    // A blob nobody holds any more takes its cached encoding with it.
    blobs.commit(new Map(), new Map([['os-blob', -3]]));
    expect(blobs.cachedEncodings).toBe(2);
  });
});
