import { gatewayCommand } from '../../bench/lib/gateway-process.mjs';
import { type StartedServer, startServer } from '../../bench/lib/processes.mjs';
import { eventually } from './eventually.js';

/**
 * The gateway bundle `npm start` runs, in a process of its own on `port` (so that a test can
 * SIGKILL it, as a crash does), resolved once it is ready: /readyz answers 200 (in upstream mode,
 * once its upstream answers).
 */
export async function startGatewayProcess(port: number, env: Record<string, string>): Promise<StartedServer> {
  const gateway = await startServer(process.execPath, gatewayCommand, {
    port,
    env: { LOG_LEVEL: 'warn', SHUTDOWN_GRACE_MS: '300', ...env, PORT: String(port) },
  });
  await eventually(
    async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status,
    (status) => status === 200,
    (status) => `gateway on ${port} not ready (${status})`,
  );
  return gateway;
}
