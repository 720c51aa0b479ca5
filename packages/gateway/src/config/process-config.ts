import { fileURLToPath } from 'node:url';
import type { GatewayConfig } from './config-schema.js';
import { ConfigError, loadConfig } from './load-config.js';

/** sysexits' EX_CONFIG: the exit status of a gateway that refuses its configuration. */
export const EX_CONFIG = 78;

/** A configuration (or a file it names) that cannot be used: one line, and exit EX_CONFIG. */
export function stopOnConfigError(error: unknown): never {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`ringway-gateway: ${error.message}`);
  process.exit(EX_CONFIG);
}

/**
 * This process's configuration (its environment, CONFIG_FILE), or the process stops naming the
 * field. `entryUrl` is the running entry's `import.meta.url`: the page is built beside the
 * gateway in this repository (every entry lives in packages/gateway/dist/), unless SOFTPHONE_DIR
 * says where.
 */
export function loadProcessConfig(entryUrl: string): GatewayConfig {
  const softphoneDir = fileURLToPath(new URL('../../softphone/dist/page/', entryUrl));
  try {
    return loadConfig(process.env, process.env.SOFTPHONE_DIR ? {} : { softphoneDir });
  } catch (error) {
    stopOnConfigError(error);
  }
}
