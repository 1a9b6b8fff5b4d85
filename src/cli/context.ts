import type { ResolvedConfig } from '../config/resolve.js';
import { createDestination } from '../destinations/index.js';
import type { Destination } from '../destinations/types.js';
import { readPipelineConfig } from '../ops/config.js';
import { rememberSecret } from './secrets.js';

/** Load and validate the config the way every command does (type hints and names included). */
export function readConfig(file: string | undefined): ResolvedConfig {
  const config = readPipelineConfig(file);
  // Every server destination has a password (never printed: src/cli's logs scrub it).
  if ('password' in config.destination) rememberSecret(config.destination.password);
  return config;
}

/** Open the config's destination, run `fn`, close it. */
export async function withDestination<T>(
  config: ResolvedConfig,
  fn: (dest: Destination) => Promise<T>,
  options: { readOnly?: boolean } = {},
): Promise<T> {
  const dest = await createDestination(config.destination);
  await dest.open(options);
  try {
    return await fn(dest);
  } finally {
    await dest.close();
  }
}
