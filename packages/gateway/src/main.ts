import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config/load-config.js';

const startedAt = performance.now();
let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`ringway-gateway: ${error.message}`);
    process.exit(78); // EX_CONFIG
  }
  throw error;
}

const app = await buildApp(config);
closeWithGrace({ delay: config.timers.shutdownGraceMs + 2000 }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'closing after an error');
  else app.log.info({ signal }, 'shutting down');
  await app.close();
});
await app.listen({ host: config.host, port: config.port });
app.log.info(
  { startupMs: Math.round(performance.now() - startedAt), sipDomain: config.sipDomain },
  `SIP WebSocket at ws://${config.host}:${app.server.address() && typeof app.server.address() === 'object' ? (app.server.address() as { port: number }).port : config.port}/sip`,
);
