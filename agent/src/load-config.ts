import { readFile } from 'node:fs/promises';
import { type AgentConfig, ConfigError, parseAgentConfig, validateAgentConfig } from '@envparity/shared';

/** Reads and validates the agent config file; without a file, the defaults. */
export async function loadAgentConfig(file?: string): Promise<AgentConfig> {
  if (!file) return validateAgentConfig({});
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new ConfigError(`cannot read config file ${file}: ${(cause as Error).message}`, undefined, { cause });
  }
  return parseAgentConfig(text, file);
}
