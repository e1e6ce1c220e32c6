import { describe, expect, it } from 'vitest';
import { hostsFacts, parseResolvConf } from './network-dns.js';

describe('network-dns', () => {
  it('parses resolv.conf like glibc: nameservers in order, last search/domain wins, options accumulate', () => {
    const conf = parseResolvConf(
      [
        '# generated',
        '; also a comment',
        'nameserver 10.0.0.2',
        'search old.example',
        'nameserver 10.0.0.1 # trailing comment',
        'options ndots:5',
        'domain corp.example',
        'search a.example b.example',
        'options timeout:2 rotate',
      ].join('\n'),
    );
    expect(conf).toEqual({
      nameservers: ['10.0.0.2', '10.0.0.1'],
      search: ['a.example', 'b.example'],
      options: ['ndots:5', 'timeout:2', 'rotate'],
    });
    expect(parseResolvConf('domain corp.example\n').search).toEqual(['corp.example']);
  });

  it('maps /etc/hosts names to sorted unique addresses, skipping the host own name', () => {
    const facts = hostsFacts(
      [
        '127.0.0.1 localhost',
        '::1 localhost ip6-localhost # comment',
        '10.0.0.5 db.internal DB',
        '10.0.0.4 db.internal',
        '10.0.0.4 db.internal',
        '127.0.1.1 web-1.example web-1',
        '# 10.9.9.9 commented.out',
      ].join('\n'),
      'web-1.example',
    );
    expect(facts).toEqual({
      'network.hosts.db': ['10.0.0.5'],
      'network.hosts["db.internal"]': ['10.0.0.4', '10.0.0.5'],
      'network.hosts.ip6-localhost': ['::1'],
      'network.hosts.localhost': ['127.0.0.1', '::1'],
    });
  });
});
