import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { PolicyError, resolvePolicy } from '@ringway/sdp';
import { FormatRegistry } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parseHepUrl } from '../sip-capture/hep-sender.js';
import { ConfigSchema, type GatewayConfig } from './config-schema.js';

FormatRegistry.Set('ipv4-or-ipv6', (value) => isIP(value) !== 0);

/** A configuration value that cannot be used; the message names the field and what was expected. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Parse = (raw: string) => unknown;
const asString: Parse = (raw) => raw;
const asNumber: Parse = (raw) => (raw.trim() === '' ? raw : Number(raw));
const asBoolean: Parse = (raw) =>
  ({ true: true, '1': true, false: false, '0': false })[raw.toLowerCase()] ?? raw;
const asList: Parse = (raw) =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const asJson: Parse = (raw) => {
  try {
    return JSON.parse(raw);
  } catch {
    return raw; // left as a string, so validation names the field
  }
};

/** Environment variables and the configuration path each one sets. */
const ENVIRONMENT: ReadonlyArray<[variable: string, path: string, parse: Parse]> = [
  ['HOST', 'host', asString],
  ['PORT', 'port', asNumber],
  ['SIP_DOMAIN', 'sipDomain', asString],
  ['ADVERTISED_HOST', 'advertisedHost', asString],
  ['PUBLIC_HOST', 'publicHost', asString],
  ['AUTH_SECRET', 'authSecret', asString],
  ['USERS_FILE', 'usersFile', asString],
  ['ADMIN_TOKEN', 'adminToken', asString],
  ['ALLOW_ANONYMOUS', 'allowAnonymous', asBoolean],
  ['ALLOWED_ORIGINS', 'allowedOrigins', asList],
  ['ICE_SERVERS', 'iceServers', asJson],
  ['WS_SERVERS', 'wsServers', asList],
  ['SOFTPHONE_DIR', 'softphoneDir', asString],
  ['MAX_MESSAGE_BYTES', 'maxMessageBytes', asNumber],
  ['REGISTER_MIN_EXPIRES', 'registration.minExpires', asNumber],
  ['REGISTER_MAX_EXPIRES', 'registration.maxExpires', asNumber],
  ['REGISTER_DEFAULT_EXPIRES', 'registration.defaultExpires', asNumber],
  ['RATE_MESSAGES_PER_SECOND', 'limits.messagesPerSecond', asNumber],
  ['RATE_MESSAGE_BURST', 'limits.messageBurst', asNumber],
  ['MAX_CONNECTIONS_PER_IP', 'limits.connectionsPerIp', asNumber],
  ['FIRST_REQUEST_TIMEOUT_MS', 'limits.firstRequestMs', asNumber],
  ['WS_PING_INTERVAL_MS', 'limits.pingIntervalMs', asNumber],
  ['TRANSACTION_TIMEOUT_MS', 'timers.transactionMs', asNumber],
  ['INVITE_TIMEOUT_MS', 'timers.inviteMs', asNumber],
  ['SHUTDOWN_GRACE_MS', 'timers.shutdownGraceMs', asNumber],
  ['CODEC_POLICY_BROWSER', 'codecPolicies.browser', asJson],
  ['CODEC_POLICY_UPSTREAM', 'codecPolicies.upstream', asJson],
  ['UPSTREAM', 'upstream', asString],
  ['UPSTREAM_LOCAL_PORT', 'upstreamLocalPort', asNumber],
  ['PEER_GATEWAYS', 'peerGateways', asList],
  ['UPSTREAM_KEEPALIVE_MS', 'upstreamKeepAliveMs', asNumber],
  ['WORKERS', 'workers', asNumber],
  ['TLS', 'tls.mode', asString],
  ['TLS_CERT_FILE', 'tls.certFile', asString],
  ['TLS_KEY_FILE', 'tls.keyFile', asString],
  ['TLS_SELF_SIGNED_DIR', 'tls.selfSignedDir', asString],
  ['HTTP_REDIRECT_PORT', 'tls.redirectPort', asNumber],
  ['UPSTREAM_CA_FILE', 'upstreamTls.caFile', asString],
  ['UPSTREAM_SERVER_NAME', 'upstreamTls.serverName', asString],
  ['SIGN_IN_CREDENTIAL_SECONDS', 'signIn.credentialSeconds', asNumber],
  ['SIGN_IN_SESSION_SECONDS', 'signIn.sessionSeconds', asNumber],
  ['REDIS_URL', 'sessions.redisUrl', asString],
  ['SESSION_TTL_SECONDS', 'sessions.ttlSeconds', asNumber],
  ['SESSION_JOIN_SECONDS', 'sessions.joinSeconds', asNumber],
  ['SESSION_READY_SECONDS', 'sessions.readySeconds', asNumber],
  ['SESSION_RINGING_SECONDS', 'sessions.ringingSeconds', asNumber],
  ['MAX_SESSIONS', 'sessions.maxLive', asNumber],
  ['SESSIONS_PER_MINUTE', 'sessions.createPerMinute', asNumber],
  ['CALL_LINKS', 'sessions.callLinks', asString],
  ['SIP_CAPTURE_CALLS', 'capture.calls', asNumber],
  ['SIP_CAPTURE_BYTES', 'capture.bytes', asNumber],
  ['HEP_URL', 'capture.hepUrl', asString],
  ['HEP_AGENT_ID', 'capture.hepAgentId', asNumber],
  ['LOG_LEVEL', 'logLevel', asString],
  ['LOG_FORMAT', 'logFormat', asString],
];

const DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  allowedOrigins: [] as string[],
  iceServers: [],
  wsServers: [] as string[],
  maxMessageBytes: 65536,
  upstreamLocalPort: 0,
  peerGateways: [] as string[],
  upstreamKeepAliveMs: 5000,
  registration: { minExpires: 60, maxExpires: 3600, defaultExpires: 600 },
  limits: {
    messagesPerSecond: 50,
    messageBurst: 200,
    connectionsPerIp: 1000,
    firstRequestMs: 10_000,
    pingIntervalMs: 30_000,
  },
  timers: { transactionMs: 32000, inviteMs: 180000, shutdownGraceMs: 5000 },
  codecPolicies: {
    browser: { audioOnly: false },
    upstream: {
      preferences: ['PCMU/8000', 'PCMA/8000', 'G722/8000', 'opus/48000/2'],
      fixes: ['strip-mdns-candidates', 'remove-extmap-allow-mixed', 'drop-red-ulpfec'],
    },
  },
  tls: { mode: 'auto', selfSignedDir: 'data/tls' },
  upstreamTls: {},
  signIn: { credentialSeconds: 14400, sessionSeconds: 604800 },
  sessions: {
    ttlSeconds: 3600,
    joinSeconds: 600,
    readySeconds: 60,
    ringingSeconds: 60,
    maxLive: 1000,
    createPerMinute: 10,
  },
  capture: { calls: 200, bytes: 16 * 1024 * 1024, hepAgentId: 2001 },
  logLevel: 'info',
  logFormat: 'auto',
};

type Tree = Record<string, unknown>;

function setPath(tree: Tree, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = tree;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Tree;
  }
  node[keys[keys.length - 1] as string] = value;
}

function merge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] =
      typeof value === 'object' &&
      value !== null &&
      !Array.isArray(value) &&
      typeof current === 'object' &&
      current
        ? merge(current as Tree, value as Tree)
        : value;
  }
  return out;
}

function readConfigFile(path: string): Tree {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`CONFIG_FILE: cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('not a JSON object');
    return parsed as Tree;
  } catch (error) {
    throw new ConfigError(`CONFIG_FILE: ${path} is not a JSON object: ${(error as Error).message}`);
  }
}

/** How the page is served: HTTPS with the operator's certificate, with a self-signed one, or plain HTTP. */
export type TlsSource = 'files' | 'self-signed' | 'off';

export function tlsSource(config: GatewayConfig): TlsSource {
  if (config.tls.certFile) return 'files';
  if (config.tls.mode === 'off' || isLoopback(config.host)) return 'off';
  return 'self-signed';
}

function checkTls(config: GatewayConfig): void {
  const { certFile, keyFile, mode, redirectPort } = config.tls;
  if (Boolean(certFile) !== Boolean(keyFile)) {
    const missing = certFile
      ? 'tls.keyFile (environment TLS_KEY_FILE)'
      : 'tls.certFile (environment TLS_CERT_FILE)';
    throw new ConfigError(
      `invalid configuration: ${missing}: a certificate needs its key, and a key its certificate`,
    );
  }
  if (certFile && mode === 'off') {
    throw new ConfigError(
      'invalid configuration: tls.mode (environment TLS) is off, but TLS_CERT_FILE names a certificate',
    );
  }
  if (redirectPort !== undefined && (tlsSource(config) === 'off' || redirectPort === config.port)) {
    throw new ConfigError(
      `invalid configuration: tls.redirectPort (environment HTTP_REDIRECT_PORT): redirects to HTTPS need HTTPS on another port; got ${redirectPort} with ${tlsSource(config) === 'off' ? 'plain HTTP' : `HTTPS on ${config.port}`}`,
    );
  }
  const upstreamTls = config.upstream?.startsWith('tls:') ?? false;
  for (const [field, variable, value] of [
    ['upstreamTls.caFile', 'UPSTREAM_CA_FILE', config.upstreamTls.caFile],
    ['upstreamTls.serverName', 'UPSTREAM_SERVER_NAME', config.upstreamTls.serverName],
  ] as const) {
    if (value !== undefined && !upstreamTls)
      throw new ConfigError(
        `invalid configuration: ${field} (environment ${variable}) needs UPSTREAM=tls:<ip>:<port>`,
      );
  }
}

/** How the placeholder secrets of .env.example begin: fine on loopback, refused anywhere else. */
const PLACEHOLDER_PREFIX = 'change-me';

export function isLoopback(host: string): boolean {
  return host === '::1' || host.startsWith('127.') || host === 'localhost';
}

/**
 * Builds the configuration from defaults, an optional JSON file (CONFIG_FILE) and environment
 * variables, in that order of precedence (the environment wins). Throws ConfigError naming the
 * first field that is wrong.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Tree = {}): GatewayConfig {
  let tree: Tree = merge({}, DEFAULTS);
  if (env.CONFIG_FILE) tree = merge(tree, readConfigFile(env.CONFIG_FILE));
  const fromEnv: Tree = {};
  for (const [variable, path, parse] of ENVIRONMENT) {
    const raw = env[variable];
    if (raw !== undefined && raw !== '') setPath(fromEnv, path, parse(raw));
  }
  tree = merge(merge(tree, fromEnv), overrides);
  tree.sipDomain ??= tree.host;
  tree.advertisedHost ??= tree.host;
  tree.workers ??=
    tree.upstream && (tree.sessions as Tree | undefined)?.redisUrl ? availableParallelism() : 1;
  tree.allowAnonymous ??=
    typeof tree.host === 'string' && isLoopback(tree.host) && !tree.authSecret && !tree.usersFile;
  const sessions = tree.sessions as Tree;
  tree.sessions = {
    ...sessions,
    callLinks: sessions.callLinks ?? (tree.authSecret || tree.usersFile ? 'signed-in' : 'anyone'),
  };
  return validate(tree);
}

function validate(tree: Tree): GatewayConfig {
  const first = Value.Errors(ConfigSchema, tree).First();
  if (first) {
    const field = first.path.replace(/^\//, '').replace(/\//g, '.') || '(root)';
    // A list's item (`wsServers.1`) is named by the list's variable.
    const variable = ENVIRONMENT.find(([, path]) => field === path || field.startsWith(`${path}.`))?.[0];
    const hint = variable ? ` (environment ${variable})` : '';
    throw new ConfigError(
      `invalid configuration: ${field}${hint}: ${first.message}; got ${JSON.stringify(first.value)}`,
    );
  }
  const config = tree as GatewayConfig;
  for (const [route, policy] of Object.entries(config.codecPolicies)) {
    try {
      resolvePolicy(policy);
    } catch (error) {
      if (!(error instanceof PolicyError)) throw error;
      const variable = `CODEC_POLICY_${route.toUpperCase()}`;
      throw new ConfigError(
        `invalid configuration: codecPolicies.${route}.${error.field} (environment ${variable}): ${error.message.split(': ').slice(2).join(': ')}`,
      );
    }
  }
  const { minExpires, maxExpires, defaultExpires } = config.registration;
  if (minExpires > maxExpires || defaultExpires < minExpires || defaultExpires > maxExpires) {
    throw new ConfigError(
      `invalid configuration: registration: need minExpires ≤ defaultExpires ≤ maxExpires; got ${minExpires}, ${defaultExpires}, ${maxExpires}`,
    );
  }
  const hasAuth = Boolean(config.authSecret || config.usersFile);
  if (!isLoopback(config.host) && (!hasAuth || config.allowAnonymous)) {
    throw new ConfigError(
      `refusing to listen on ${config.host} without authentication: set AUTH_SECRET or USERS_FILE (and not ALLOW_ANONYMOUS), or HOST=127.0.0.1`,
    );
  }
  const reachedAt = config.publicHost ?? config.host;
  for (const [variable, value] of [
    ['AUTH_SECRET', config.authSecret],
    ['ADMIN_TOKEN', config.adminToken],
  ] as const) {
    if (value?.startsWith(PLACEHOLDER_PREFIX) && !isLoopback(reachedAt)) {
      throw new ConfigError(
        `${variable} is still the placeholder of .env.example: set a random one of your own (openssl rand -base64 32) before serving ${reachedAt}`,
      );
    }
  }
  checkTls(config);
  if (config.capture.hepUrl !== undefined) {
    try {
      parseHepUrl(config.capture.hepUrl);
    } catch (error) {
      throw new ConfigError(
        `invalid configuration: capture.hepUrl (environment HEP_URL): ${(error as Error).message}`,
      );
    }
  }
  if (config.workers > 1 && !config.upstream) {
    throw new ConfigError(
      `invalid configuration: workers (environment WORKERS) is ${config.workers}, but the embedded registrar keeps its location in one process: several workers need UPSTREAM (Kamailio behind them)`,
    );
  }
  if (config.sessions.redisUrl && !config.authSecret) {
    throw new ConfigError(
      'invalid configuration: sessions.redisUrl (environment REDIS_URL) needs authSecret (AUTH_SECRET): gateways sharing sessions must share the credential secret',
    );
  }
  if (config.allowAnonymous && hasAuth) {
    throw new ConfigError(
      'invalid configuration: allowAnonymous cannot be combined with authSecret or usersFile',
    );
  }
  return config;
}
