import { aggregatorUrls, ConfigError, MAX_AGGREGATOR_URLS } from '@envparity/shared';

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

/**
 * The agent channel URLs for the `aggregator` given (one, or a list to fail over between): each
 * normalized; two that normalize alike (`http://a:1` and `ws://a:1/api/v1/agent`) are refused,
 * naming the index, as the config refuses exact duplicates.
 */
export function agentChannelUrls(aggregator: string | readonly string[] | undefined): string[] {
  const given = aggregatorUrls(aggregator);
  if (given.length === 0) {
    throw new ConfigError(
      'aggregator: no aggregator URL: pass --aggregator or set `aggregator` in the config',
      'aggregator',
    );
  }
  if (given.length > MAX_AGGREGATOR_URLS) {
    throw new ConfigError(`aggregator: at most ${MAX_AGGREGATOR_URLS} URLs, got ${given.length}`, 'aggregator');
  }
  const urls = given.map((url) => agentChannelUrl(url));
  urls.forEach((url, index) => {
    const first = urls.indexOf(url);
    if (first !== index) {
      throw new ConfigError(`aggregator[${index}]: the same aggregator as aggregator[${first}]`, 'aggregator');
    }
  });
  return urls;
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
