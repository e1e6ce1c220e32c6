import { ConfigError } from '@envparity/shared';
import { describe, expect, it } from 'vitest';
import { agentChannelUrl, agentChannelUrls, redactUrl } from './aggregator-url.js';

describe('agentChannelUrl', () => {
  it('maps http to ws and https to wss and appends the channel path when there is none', () => {
    expect(agentChannelUrl('http://agg:7300')).toBe('ws://agg:7300/api/v1/agent');
    expect(agentChannelUrl('https://agg.example.com')).toBe('wss://agg.example.com/api/v1/agent');
    expect(agentChannelUrl('ws://127.0.0.1:7300/')).toBe('ws://127.0.0.1:7300/api/v1/agent');
    expect(agentChannelUrl('wss://agg/')).toBe('wss://agg/api/v1/agent');
  });

  it('keeps an explicit path (proxy prefix) as is', () => {
    expect(agentChannelUrl('https://proxy/envparity/api/v1/agent')).toBe('wss://proxy/envparity/api/v1/agent');
    expect(agentChannelUrl('ws://agg:1/custom')).toBe('ws://agg:1/custom');
  });

  it('rejects other schemes and non-URLs naming the key', () => {
    expect(() => agentChannelUrl('ftp://agg')).toThrow(ConfigError);
    expect(() => agentChannelUrl('agg:7300')).toThrow(/aggregator/);
    expect(() => agentChannelUrl('not a url')).toThrow(/aggregator: not a URL/);
  });

  it('redacts credentials for logs', () => {
    expect(redactUrl('wss://user:pw@agg/api/v1/agent')).toBe('wss://agg/api/v1/agent');
  });
});

describe('agentChannelUrls', () => {
  it('normalizes one URL or a list, in order', () => {
    expect(agentChannelUrls('http://agg:7300')).toEqual(['ws://agg:7300/api/v1/agent']);
    expect(agentChannelUrls(['https://b', 'ws://a:1'])).toEqual(['wss://b/api/v1/agent', 'ws://a:1/api/v1/agent']);
  });

  it('refuses no URL, too many, and two that are one aggregator, naming the index', () => {
    expect(() => agentChannelUrls(undefined)).toThrow(/aggregator: no aggregator URL/);
    expect(() => agentChannelUrls([])).toThrow(/aggregator: no aggregator URL/);
    expect(() => agentChannelUrls(Array.from({ length: 17 }, (_, index) => `ws://a:${index + 1}`))).toThrow(
      /at most 16 URLs, got 17/,
    );
    expect(() => agentChannelUrls(['ws://a:1', 'ws://b:1', 'http://a:1/'])).toThrow(
      'aggregator[2]: the same aggregator as aggregator[0]',
    );
  });
});
