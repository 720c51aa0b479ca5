import { fileURLToPath } from 'node:url';
import closeWithGrace from 'close-with-grace';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import type { GatewayConfig } from './config/config-schema.js';
import { ConfigError, loadConfig } from './config/load-config.js';

/** A configuration (or a file it names) that cannot be used: one line, and exit EX_CONFIG. */
function stopOnConfigError(error: unknown): never {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`ringway-gateway: ${error.message}`);
  process.exit(78);
}

// Milliseconds since the process began (performance.now() counts from there) at the end of each
// start-up phase, for the start-up log line: a slow start shows where it went.
const phasesMs: Record<string, number> = { load: Math.round(performance.now()) };
const phaseEnds = (name: string) => {
  phasesMs[name] = Math.round(performance.now());
};

let config: GatewayConfig;
let app: FastifyInstance;
try {
  // The page is built beside the gateway in this repository (both main.js and gateway.mjs live in dist/).
  const softphoneDir = fileURLToPath(new URL('../../softphone/dist/page/', import.meta.url));
  config = loadConfig(process.env, process.env.SOFTPHONE_DIR ? {} : { softphoneDir });
  phaseEnds('config');
  app = await buildApp(config);
  phaseEnds('plugins');
} catch (error) {
  stopOnConfigError(error);
}

closeWithGrace({ delay: config.timers.shutdownGraceMs + 2000 }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'closing after an error');
  else app.log.info({ signal }, 'shutting down');
  await app.close();
});
await app.listen({ host: config.host, port: config.port });
phaseEnds('listen');
const { port } = app.server.address() as { port: number };
app.log.info(
  { startupMs: phasesMs.listen, phasesMs, sipDomain: config.sipDomain },
  `SIP WebSocket at ${app.initialConfig.https ? 'wss' : 'ws'}://${config.host}:${port}/sip`,
);
