import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/**
 * The container's health check: asks this container's own gateway for /readyz on loopback —
 * over HTTPS (its certificate is not checked: it is the gateway next door, and a self-signed one
 * names no loopback name a browser would use), or over plain HTTP when it serves that (TLS=off).
 * Exits 0 when ready.
 */
const port = Number(process.env.PORT ?? 8080);
const ask = (secure: boolean) =>
  new Promise<number>((resolve, reject) => {
    const options = { host: '127.0.0.1', port, path: '/readyz', timeout: 2000, rejectUnauthorized: false };
    const request = (secure ? httpsRequest : httpRequest)(options, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.once('timeout', () => request.destroy(new Error('timed out')));
    request.once('error', reject);
    request.end();
  });

const status = await ask(true).catch(() => ask(false).catch(() => 0));
process.exit(status === 200 ? 0 : 1);
