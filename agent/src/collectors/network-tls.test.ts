import { describe, expect, it } from 'vitest';
import { formatDistinguishedName, parseEndpoint, parseSubjectAltName } from './network-tls.js';

describe('network-tls', () => {
  it('splits endpoints', () => {
    expect(parseEndpoint('api.internal:443')).toEqual({ host: 'api.internal', port: 443 });
    expect(parseEndpoint('[::1]:8443')).toEqual({ host: '::1', port: 8443 });
    expect(() => parseEndpoint('api.internal')).toThrow();
    expect(() => parseEndpoint('api:70000')).toThrow();
  });

  it('parses subjectAltName, quoted entries included, sorted', () => {
    expect(parseSubjectAltName('DNS:b.example, IP Address:127.0.0.1, DNS:a.example')).toEqual([
      'DNS:a.example',
      'DNS:b.example',
      'IP:127.0.0.1',
    ]);
    expect(parseSubjectAltName('DNS:"a, b.example", URI:spiffe://x/y')).toEqual([
      'DNS:a, b.example',
      'URI:spiffe://x/y',
    ]);
    expect(parseSubjectAltName(undefined)).toEqual([]);
  });

  it('joins RDNs in certificate order', () => {
    expect(formatDistinguishedName('C=US\nO=Acme\nCN=api')).toBe('C=US, O=Acme, CN=api');
  });
});
