import { loadProcessConfig } from '../config/process-config.js';

/**
 * `node dist/check-config.mjs`: checks the configuration the gateway would start with and exits
 * (0, or 78 with one line naming the field). docker-compose.yml runs it before any service that
 * shares the gateway's secrets starts, so a refused configuration stops `up`.
 */
loadProcessConfig(import.meta.url);
console.log('ringway-gateway: the configuration is valid');
