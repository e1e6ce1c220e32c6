import { ConfigError } from '@envparity/shared';

/** The agent channel's path on the aggregator (docs/PROTOCOL.md). */
export const AGENT_CHANNEL_PATH = '/api/v1/agent';

/**
 * The WebSocket URL of the agent channel for what the user gave: `http` becomes `ws`, `https`
 * becomes `wss`, and a URL without a path gets `/api/v1/agent` (a URL with a path, e.g. behind a
 * proxy prefix, is used as is).
 */
export function agentChannelUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch (cause) {
    throw new ConfigError(`aggregator: not a URL: ${JSON.stringify(input)}`, 'aggregator', { cause });
  }
  const protocols: Record<string, string> = { 'ws:': 'ws:', 'wss:': 'wss:', 'http:': 'ws:', 'https:': 'wss:' };
  const protocol = protocols[url.protocol];
  if (!protocol) {
    throw new ConfigError(
      `aggregator: expected a ws://, wss://, http:// or https:// URL, got ${url.protocol}//`,
      'aggregator',
    );
  }
  url.protocol = protocol;
  if (url.pathname === '' || url.pathname === '/') url.pathname = AGENT_CHANNEL_PATH;
  url.hash = '';
  return url.toString();
}

/** The URL without user name and password, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '(invalid URL)';
  }
}
