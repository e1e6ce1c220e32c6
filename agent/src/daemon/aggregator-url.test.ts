import { ConfigError } from '@envparity/shared';
import { describe, expect, it } from 'vitest';
import { agentChannelUrl, redactUrl } from './aggregator-url.js';

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
