import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import {
  type AgentConfig,
  ConfigError,
  MAX_CONFIG_FILE_BYTES,
  parseConfigText,
  validateAgentConfig,
} from '@envparity/shared';

/**
 * Reads a config file, refusing at once what no config file is: a path that is not a regular file
 * (a FIFO would block forever: it is opened non-blocking and checked before any read) or a file
 * over MAX_CONFIG_FILE_BYTES (1 MB: never read whole, never parsed).
 */
export async function readConfigFileText(file: string, maxBytes = MAX_CONFIG_FILE_BYTES): Promise<string> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
    const info = await handle.stat();
    if (!info.isFile()) {
      throw new ConfigError(`config file ${file} is not a regular file (a directory, FIFO, socket or device): refused`);
    }
    if (info.size > maxBytes) {
      throw new ConfigError(`config file ${file} is ${info.size} bytes, over the ${maxBytes}-byte limit: refused`);
    }
    const buffer = Buffer.alloc(maxBytes + 1);
    let total = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, total, buffer.length - total, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) {
        throw new ConfigError(`config file ${file} is over the ${maxBytes}-byte limit: refused`);
      }
    }
    return buffer.subarray(0, total).toString('utf8');
  } catch (cause) {
    if (cause instanceof ConfigError) throw cause;
    throw new ConfigError(`cannot read config file ${file}: ${(cause as Error).message}`, undefined, { cause });
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** Reads and validates the agent config file (`hostRoot` included: host-root.ts); without a file, the defaults. */
export async function loadAgentConfig(file?: string): Promise<AgentConfig> {
  if (!file) return validateAgentConfig({});
  return validateAgentConfig(parseConfigText(await readConfigFileText(file), file), file);
}
