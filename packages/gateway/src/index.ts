export { buildApp } from './app.js';
export type { GatewayConfig, IceServer } from './config/config-schema.js';
export { ConfigError, loadConfig } from './config/load-config.js';
export { issueEphemeralCredential } from './sip/auth/credentials.js';
