import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server as TlsServer } from 'node:tls';
import Fastify, { type FastifyInstance } from 'fastify';
import { PasswordGuesses } from './accounts/password-guesses.js';
import { SignIn } from './accounts/sign-in.js';
import { signedInUser } from './accounts/signed-in-user.js';
import { UsersFile } from './accounts/users-file.js';
import { CallTokens } from './calls/call-tokens.js';
import { QualityReports } from './calls/quality-reports.js';
import type { GatewayConfig } from './config/config-schema.js';
import { ConfigError } from './config/load-config.js';
import { serverKeys } from './config/server-keys.js';
import apiDocs from './http/api-docs.js';
import callsApi from './http/calls-api.js';
import connectionLimits from './http/connection-limits.js';
import health from './http/health.js';
import httpsRedirect from './http/https-redirect.js';
import { lazySchemaController } from './http/lazy-schema-compilers.js';
import operatorAccess from './http/operator-access.js';
import operatorCalls from './http/operator-calls.js';
import registrationsApi from './http/registrations-api.js';
import { RequestLog } from './http/request-log.js';
import sessionsApi from './http/sessions-api.js';
import signInApi from './http/sign-in-api.js';
import sipWebSocket from './http/sip-websocket.js';
import softphonePage from './http/softphone-page.js';
import { logDestination, logOptions } from './logging.js';
import { createMetrics } from './metrics.js';
import { SessionService } from './sessions/session-service.js';
import { MemorySessionStore } from './sessions/session-store.js';
import { credentialsFromConfig, revocationByUsersFile } from './sip/auth/credentials.js';
import { DialogTokens } from './sip/proxy/dialog-token.js';
import { SipServer } from './sip/sip-server.js';
import type { SiblingWorkers } from './sip/upstream/sibling-workers.js';
import { UpstreamRelay } from './sip/upstream/upstream-relay.js';
import { parseUpstreamTargets, type UpstreamTarget } from './sip/upstream/upstream-target.js';
import { parseHepUrl } from './sip-capture/hep-sender.js';
import { SipCapture } from './sip-capture/sip-capture.js';
import { reloadCertificateOnChange } from './tls/certificate-reloader.js';
import { SERVER_TLS_OPTIONS, serverCertificate } from './tls/server-certificate.js';

declare module 'fastify' {
  interface FastifyInstance {
    sip: SipServer;
  }
}

/** The upstream's nodes as configured, with how a certificate is verified when it speaks TLS. */
function upstreamTargets(config: GatewayConfig, upstream: string): [UpstreamTarget, ...UpstreamTarget[]] {
  let targets: UpstreamTarget[];
  try {
    targets = parseUpstreamTargets(upstream);
  } catch (error) {
    throw new ConfigError(`UPSTREAM: ${(error as Error).message}`);
  }
  const [first, ...others] = targets as [UpstreamTarget, ...UpstreamTarget[]];
  if (first.transport !== 'TLS') return [first, ...others];
  const { caFile, serverName } = config.upstreamTls;
  let ca: string | undefined;
  if (caFile) {
    try {
      ca = readFileSync(caFile, 'utf8');
    } catch (error) {
      throw new ConfigError(`UPSTREAM_CA_FILE: cannot read ${caFile}: ${(error as Error).message}`);
    }
  }
  return [{ ...first, verify: { ca, serverName } }];
}

/**
 * Builds the gateway without listening: tests call `inject()` on it or `listen({ port: 0 })`.
 * Nothing here touches DNS. A file named in the configuration that cannot be used throws
 * ConfigError naming it.
 */
export async function buildApp(
  config: GatewayConfig,
  workers: { siblings?: SiblingWorkers } = {},
): Promise<FastifyInstance> {
  const certificate = await serverCertificate(config);
  const targets = config.upstream ? upstreamTargets(config, config.upstream) : undefined;
  // Typed as the plain-HTTP instance either way: nothing here depends on which server it is.
  const app = Fastify({
    logger: { ...logOptions(config), stream: await logDestination(config.logFormat) },
    logController: new RequestLog(),
    // Behind no proxy by default; the client address is the socket's.
    trustProxy: false,
    schemaController: lazySchemaController,
    ...(certificate
      ? { https: { key: certificate.key, cert: certificate.cert, ...SERVER_TLS_OPTIONS } }
      : {}),
  }) as unknown as FastifyInstance;
  if (certificate) app.log.info(certificate.description);
  if (certificate?.source === 'files') {
    const { certFile, keyFile } = config.tls as { certFile: string; keyFile: string };
    const stop = reloadCertificateOnChange(
      app.server as unknown as TlsServer,
      { certFile, keyFile },
      app.log,
    );
    app.addHook('onClose', async () => stop());
  }
  const metrics = createMetrics();
  const { sessions: sessionConfig } = config;
  // ioredis is loaded only when Redis is configured.
  const store = sessionConfig.redisUrl
    ? new (await import('./sessions/redis-session-store.js')).RedisSessionStore(
        sessionConfig.redisUrl,
        app.log,
      )
    : new MemorySessionStore();
  const sessions = new SessionService({
    store,
    sipDomain: config.sipDomain,
    // Without AUTH_SECRET (anonymous loopback mode) the registrar checks no credential; sessions
    // still hand out well-formed ones, signed with a secret of this process.
    secret: config.authSecret ?? randomBytes(32).toString('base64'),
    iceServers: config.iceServers,
    ttlMs: sessionConfig.ttlSeconds * 1000,
    timeouts: {
      waiting: sessionConfig.joinSeconds * 1000,
      ready: sessionConfig.readySeconds * 1000,
      ringing: sessionConfig.ringingSeconds * 1000,
    },
    maxLive: sessionConfig.maxLive,
    log: app.log,
  });
  // Recent calls' messages for the operator's ladder, and the WebSocket leg as HEP.
  const { calls: capturedCalls, bytes: capturedBytes, hepUrl, hepAgentId } = config.capture;
  const capture =
    capturedCalls > 0 || hepUrl
      ? new SipCapture({
          maxCalls: capturedCalls,
          maxBytes: capturedBytes,
          hep: hepUrl ? { target: parseHepUrl(hepUrl), captureAgentId: hepAgentId } : undefined,
          log: app.log,
        })
      : undefined;
  const reports = new QualityReports(metrics, (callId, report) =>
    capture?.qualityReported(callId, report.mos),
  );
  const users = config.usersFile
    ? new UsersFile(config.usersFile, (message) => app.log.warn(`${message}; keeping the users read before`))
    : undefined;
  const revoked = users && revocationByUsersFile(users, config.signIn.credentialSeconds);
  const credentials = credentialsFromConfig(config, users, revoked);
  const keys = serverKeys(credentials);
  const signIn =
    users && config.authSecret
      ? new SignIn({
          users,
          secret: config.authSecret,
          renewalKey: keys('sign-in-renewal'),
          sipDomain: config.sipDomain,
          iceServers: config.iceServers,
          ...config.signIn,
        })
      : undefined;
  const callTokens = new CallTokens(keys('call-report'));
  const guesses = new PasswordGuesses();
  const sip = new SipServer(config, app.log, metrics, {
    keys,
    credentials,
    callTokens,
    guesses,
    observeCall: (event) => {
      // A call that began before a restart is known again by its first re-INVITE (the ICE restart).
      if (event.type === 'invite' || event.type === 'reinvite') reports.callSeen(event.callId);
      sessions.observe(event);
    },
  });
  app.decorate('sip', sip);
  if (users) {
    const stopWatching = users.watch((changed) => sip.endUsers(changed));
    app.addHook('onClose', async () => stopWatching());
  }
  // Set first thing at close (before the WebSocket plugin's preClose closes every connection).
  let shuttingDown = false;
  app.addHook('preClose', async () => {
    shuttingDown = true;
  });
  if (targets) {
    const upstreamUp = metrics.upstreamUp;
    sip.upstream = new UpstreamRelay({
      targets,
      local: { host: config.host, advertised: config.advertisedHost, port: config.upstreamLocalPort },
      maxMessageBytes: config.maxMessageBytes,
      sentBy: () =>
        `${config.advertisedHost}:${(app.server.address() as { port: number } | null)?.port ?? config.port}`,
      flows: sip.flows,
      log: app.log,
      onHealth: (up) => upstreamUp.set(up ? 1 : 0),
      media: sip.mediaPolicy('upstream'),
      onInvite: (callId) => reports.callSeen(callId),
      observeCall: (event) => sessions.observe(event),
      ...(capture ? { capture: capture.upstream.bind(capture) } : {}),
      timers: config.timers,
      callTokens,
      ...(config.authSecret || config.usersFile
        ? { dialogTokens: new DialogTokens(keys('dialog-route')), revoked }
        : {}),
      keepAliveMs: config.upstreamKeepAliveMs,
      siblings: workers.siblings,
      peers: new Set(config.peerGateways),
      // A closed page's contacts are unregistered upstream with an ephemeral credential, which
      // only AUTH_SECRET can make (auth_ephemeral upstream); not while the gateway shuts down.
      ...(config.authSecret
        ? {
            unregister: {
              secret: config.authSecret,
              shuttingDown: () => shuttingDown,
              onOutcome: (outcome) => metrics.upstreamUnregisters.inc({ outcome }),
            },
          }
        : {}),
    });
    await sip.upstream.start();
  }
  if (config.allowAnonymous) {
    app.log.warn(
      'anonymous registration is allowed (loopback development mode); set AUTH_SECRET or USERS_FILE to require credentials',
    );
  }
  app.addHook('onListen', async () => {
    const address = app.server.address();
    if (address && typeof address === 'object') sip.setListeningPort(address.port);
    store.connect();
  });
  app.addHook('onClose', async () => {
    sip.upstream?.close();
    sip.close();
    sessions.close();
    capture?.close();
    await store.close();
  });
  await app.register(connectionLimits, { config });
  if (certificate && config.tls.redirectPort)
    await app.register(httpsRedirect, { config, redirectPort: config.tls.redirectPort });
  // Before any route, so that its onRoute hook sees every operator route, Swagger UI's included.
  await app.register(operatorAccess, { config });
  await app.register(apiDocs, { title: 'Ringway gateway', version: '0.1.0' });
  await app.register(health, {
    metrics,
    readiness: () => (store.ready ? undefined : 'the session store (Redis) is unreachable'),
  });
  await app.register(sipWebSocket, { config, sip, metrics, capture });
  await app.register(registrationsApi, { sip });
  await app.register(callsApi, { reports, callTokens });
  if (capture) await app.register(operatorCalls, { ring: capture.ring });
  await app.register(sessionsApi, {
    sessions,
    createPerMinute: sessionConfig.createPerMinute,
    callLinks: sessionConfig.callLinks,
    signedInUser: (authorization) => signedInUser(authorization, { signIn, credentials }),
  });
  if (signIn) await app.register(signInApi, { signIn, guesses, wsServers: config.wsServers });
  else if (users)
    app.log.warn(
      'USERS_FILE without AUTH_SECRET: SIP devices can register, but nobody can sign in on the page',
    );
  await app.register(softphonePage, { config, signIn: signIn !== undefined });
  return app;
}
