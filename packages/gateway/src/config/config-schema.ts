import type { CodecPolicy } from '@ringway/sdp';
import { type Static, Type } from '@sinclair/typebox';
import { UPSTREAM_PATTERN } from '../sip/upstream/upstream-target.js';
import { HEP_URL_PATTERN } from '../sip-capture/hep-sender.js';

/**
 * The gateway's configuration, validated once at start. Every name the gateway uses (its SIP
 * domain, the address it writes into Via and Record-Route) comes from here: nothing is looked up
 * in DNS, at start or later.
 */
export const IceServerSchema = Type.Object(
  {
    urls: Type.Union([
      Type.String({ minLength: 1 }),
      Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    ]),
    username: Type.Optional(Type.String()),
    credential: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const ConfigSchema = Type.Object(
  {
    /** IP address to listen on (a literal: a name would need DNS). Default 127.0.0.1. */
    host: Type.String({ format: 'ipv4-or-ipv6' }),
    /** TCP port for HTTP and WebSocket. Default 8080. */
    port: Type.Integer({ minimum: 0, maximum: 65535 }),
    /** The SIP domain this registrar serves; requests for any other domain get 403. Default: `host`. */
    sipDomain: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9.:\\[\\]-]+$' }),
    /** Host written into Via and Record-Route. Default: `host`. */
    advertisedHost: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9.:\\[\\]-]+$' }),
    /**
     * The address people reach this gateway at, when it is not `host` (behind Docker's port
     * publishing, say). Placeholder secrets are refused unless it (or `host`) is loopback.
     */
    publicHost: Type.Optional(Type.String({ minLength: 1, pattern: '^[A-Za-z0-9.:\\[\\]-]+$' })),
    /** Shared secret for ephemeral credentials (Kamailio auth_ephemeral / coturn REST scheme). */
    authSecret: Type.Optional(Type.String({ minLength: 16 })),
    /**
     * Bearer token for operator endpoints (`/metrics`, `/api/registrations`, `/docs`). With
     * credentials configured and no token, those endpoints are closed. Default: none.
     */
    adminToken: Type.Optional(Type.String({ minLength: 16 })),
    /**
     * JSON file of users: people who sign in on the page with a password (scrypt hashes, written
     * by `npm run user -- add`) and SIP devices with a digest password. Read again when it changes.
     */
    usersFile: Type.Optional(Type.String({ minLength: 1 })),
    /**
     * Let clients register and call without credentials. Only allowed when listening on loopback.
     * Default: true on loopback when neither `authSecret` nor `usersFile` is set.
     */
    allowAnonymous: Type.Boolean(),
    /** Origins allowed to open the SIP WebSocket; `*` allows any. Default: loopback origins only. */
    allowedOrigins: Type.Array(Type.String({ minLength: 1 })),
    /** Folder of the built softphone page, served at `/`. Default: packages/softphone/dist/page beside the gateway. */
    softphoneDir: Type.Optional(Type.String({ minLength: 1 })),
    /**
     * The public SIP WebSocket URLs (`ws://` or `wss://`) of every gateway of the deployment, this
     * one included, handed to softphones (GET /api/config, the sign-in reply): a phone starts on
     * the gateway it reached and moves round these when that one is gone. Default none: this
     * gateway alone.
     */
    wsServers: Type.Array(Type.String({ pattern: '^wss?://[^\\s/?#@]+(?:/[^\\s#]*)?$' })),
    /** STUN/TURN servers handed to softphones. Default none. */
    iceServers: Type.Array(IceServerSchema),
    /** Largest SIP message accepted, in bytes; larger frames close the socket with 1009. Default 65536. */
    maxMessageBytes: Type.Integer({ minimum: 1024, maximum: 1048576 }),
    registration: Type.Object(
      {
        /** Shortest registration accepted (423 below it). Default 60 s. */
        minExpires: Type.Integer({ minimum: 1 }),
        /** Longest registration granted; longer requests are shortened. Default 3600 s. */
        maxExpires: Type.Integer({ minimum: 1 }),
        /** Used when the client names no expiry. Default 600 s. */
        defaultExpires: Type.Integer({ minimum: 1 }),
      },
      { additionalProperties: false },
    ),
    limits: Type.Object(
      {
        /** Sustained SIP messages per second per connection. Default 50. */
        messagesPerSecond: Type.Number({ exclusiveMinimum: 0 }),
        /** Burst allowance above the sustained rate. Default 200. */
        messageBurst: Type.Integer({ minimum: 1 }),
        /** Open TCP connections (HTTP and WebSocket) per client IP; more are refused with 503. Default 1000. */
        connectionsPerIp: Type.Integer({ minimum: 1 }),
        /**
         * A connection that has sent no request (or upgrade) this long is closed, and so is a
         * WebSocket that has sent no SIP message this long after its upgrade (keep-alive CRLFs and
         * answered pings are not one). Default 10000 ms.
         */
        firstRequestMs: Type.Integer({ minimum: 100 }),
        /** A WebSocket is pinged this often, and closed when the previous ping went unanswered. Default 30000 ms. */
        pingIntervalMs: Type.Integer({ minimum: 100 }),
      },
      { additionalProperties: false },
    ),
    timers: Type.Object(
      {
        /** Time for a non-INVITE request, or an INVITE without any provisional, to get an answer (Timer B/F, 64·T1). Default 32000 ms. */
        transactionMs: Type.Integer({ minimum: 100 }),
        /** Time an INVITE may ring after its last provisional response (Timer C, > 3 min in RFC 3261). Default 180000 ms. */
        inviteMs: Type.Integer({ minimum: 100 }),
        /** Longest wait at shutdown for transactions in flight. Default 5000 ms. */
        shutdownGraceMs: Type.Integer({ minimum: 0 }),
      },
      { additionalProperties: false },
    ),
    /**
     * Codec policies (packages/sdp) applied to SDP in flight: `browser` for calls between
     * WebSocket clients, `upstream` for calls to a PBX. Validated by resolvePolicy at start.
     * Default: browser passes everything through; upstream prefers G.711 and applies the PBX fixes.
     */
    codecPolicies: Type.Object(
      {
        browser: Type.Record(Type.String(), Type.Unknown()),
        upstream: Type.Record(Type.String(), Type.Unknown()),
      },
      { additionalProperties: false },
    ),
    /**
     * Upstream mode: relay every client's SIP to this server (`ip:port` or `udp:ip:port` over UDP,
     * `tcp:ip:port`, `tls:ip:port`, `ws://ip:port/path`) instead of the embedded registrar — an RFC 7118 edge proxy in front of Kamailio or a PBX. Default: none.
     * Over UDP, a comma-separated list of nodes (a Kamailio cluster): the first that answers the
     * keep-alive OPTIONS is used, and the next one when it stops answering.
     */
    upstream: Type.Optional(Type.String({ pattern: UPSTREAM_PATTERN })),
    /**
     * How often the upstream is asked whether it answers (OPTIONS), ms. Unanswered for two
     * intervals and a second, it is down (clients get 503), or the next node of UPSTREAM is used.
     */
    upstreamKeepAliveMs: Type.Integer({ minimum: 100, maximum: 60000 }),
    /**
     * The upstream sides (`ip:port`) of the other gateways of one deployment, sharing AUTH_SECRET:
     * this one takes their dialogs over (their Record-Routes name them) when a client comes back
     * through it after losing its gateway. Default: none.
     */
    peerGateways: Type.Array(Type.String({ pattern: '^\\d{1,3}(?:\\.\\d{1,3}){3}:\\d{1,5}$' })),
    /**
     * The local port of the upstream side (UDP socket, or the TCP/WS connection's). 0 (default):
     * any. Set it so that a restarted gateway is found at the address the upstream stored in
     * Paths and Record-Routes, and calls and registrations carry on through it.
     */
    upstreamLocalPort: Type.Integer({ minimum: 0, maximum: 65535 }),
    /**
     * HTTPS and `wss://` on `port`. Without certificate files a gateway that listens beyond
     * loopback makes itself a self-signed certificate (kept in `selfSignedDir`); on loopback it
     * serves plain HTTP. `off`: plain HTTP everywhere (behind a proxy that terminates TLS).
     */
    tls: Type.Object(
      {
        mode: Type.Union([Type.Literal('auto'), Type.Literal('off')]),
        /** PEM certificate (a chain is fine), re-read when it changes. Needs keyFile. */
        certFile: Type.Optional(Type.String({ minLength: 1 })),
        /** PEM private key of certFile. */
        keyFile: Type.Optional(Type.String({ minLength: 1 })),
        /** Where a self-signed certificate is kept and reused across restarts. Default data/tls. */
        selfSignedDir: Type.String({ minLength: 1 }),
        /** A plain-HTTP port that only redirects to HTTPS. Default: none. */
        redirectPort: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
      },
      { additionalProperties: false },
    ),
    /** How a `tls:` upstream's certificate is verified: against this CA file and this name (no lookup). */
    upstreamTls: Type.Object(
      {
        /** PEM CA certificates that may sign the upstream's certificate. Default: Node's CA store. */
        caFile: Type.Optional(Type.String({ minLength: 1 })),
        /** The name the upstream's certificate must carry. Default: the upstream's IP address. */
        serverName: Type.Optional(Type.String({ minLength: 1, pattern: '^[A-Za-z0-9.-]+$' })),
      },
      { additionalProperties: false },
    ),
    /**
     * Processes sharing the port (Node's cluster), upstream mode only: each has its own upstream
     * side (port `upstreamLocalPort` + its index), named in the Paths and Record-Routes of its
     * clients. Default: 1 in embedded mode (the registrar's location lives in one process); in
     * upstream mode one per core when rendezvous sessions are shared (REDIS_URL), else 1.
     */
    workers: Type.Integer({ minimum: 1, maximum: 64 }),
    /** Password sign-in on the page (needs usersFile and authSecret). */
    signIn: Type.Object(
      {
        /** Lifetime of the SIP and TURN credentials a sign-in hands out, s; the page renews them. Default 14400 (4 h). */
        credentialSeconds: Type.Integer({ minimum: 30, maximum: 604800 }),
        /** How long a sign-in is renewed without asking for the password again, s. Default 604800 (7 days). */
        sessionSeconds: Type.Integer({ minimum: 60 }),
      },
      { additionalProperties: false },
    ),
    /** Rendezvous sessions (share a link, both join, the call starts). */
    sessions: Type.Object(
      {
        /** Redis for sessions shared by several gateways; in memory when unset. Needs authSecret. */
        redisUrl: Type.Optional(Type.String({ pattern: '^rediss?://' })),
        /** Lifetime of a session and of its credentials, s. Default 3600. */
        ttlSeconds: Type.Integer({ minimum: 10, maximum: 86400 }),
        /** Time for the second person to join, s. Default 600. */
        joinSeconds: Type.Integer({ minimum: 1 }),
        /** Time, once both joined, for the call to start ringing, s. Default 60. */
        readySeconds: Type.Integer({ minimum: 1 }),
        /** Time the call may ring, s. Default 60. */
        ringingSeconds: Type.Integer({ minimum: 1 }),
        /** Live sessions at most. Default 1000. */
        maxLive: Type.Integer({ minimum: 1 }),
        /** Sessions one client address may create per minute. Default 10. */
        createPerMinute: Type.Integer({ minimum: 1 }),
        /**
         * Who may create a call link: `off` (nobody), `signed-in` (a person signed in on the page,
         * or holding SIP credentials), `anyone`. The joiner never needs an account. Default
         * `signed-in` whenever credentials are configured (AUTH_SECRET or USERS_FILE), else `anyone`.
         */
        callLinks: Type.Union([Type.Literal('off'), Type.Literal('signed-in'), Type.Literal('anyone')]),
      },
      { additionalProperties: false },
    ),
    /**
     * The SIP capture (sip-capture/): the messages of recent calls on every leg, for the operator's
     * ladder (`/operator/calls`), and the WebSocket leg as HEPv3 to Homer or sngrep.
     */
    capture: Type.Object(
      {
        /** Calls whose messages are kept, the oldest forgotten first; 0 keeps none. Default 200. */
        calls: Type.Integer({ minimum: 0, maximum: 100_000 }),
        /** Bytes of (masked) message text kept at most, over all calls. Default 16777216 (16 MiB). */
        bytes: Type.Integer({ minimum: 65_536, maximum: 1_073_741_824 }),
        /**
         * HEPv3 collector, `udp:<ip>:<port>` (an IP address: no DNS), as Kamailio's siptrace and
         * rtpengine send to: every SIP message of the WebSocket leg goes there. Default: none.
         */
        hepUrl: Type.Optional(Type.String({ pattern: HEP_URL_PATTERN })),
        /** The capture agent id in each HEP packet. Default 2001 (Kamailio's siptrace uses 1). */
        hepAgentId: Type.Integer({ minimum: 0, maximum: 4_294_967_295 }),
      },
      { additionalProperties: false },
    ),
    logLevel: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    ),
    /**
     * Log lines as JSON for machines (`json`), or coloured lines for people (`pretty`). Default
     * `auto`: pretty on a terminal, JSON otherwise (containers, pipes, files).
     */
    logFormat: Type.Union([Type.Literal('auto'), Type.Literal('json'), Type.Literal('pretty')]),
  },
  { additionalProperties: false },
);

/** The schema checks that each policy is an object; resolvePolicy checks the rest, naming the field. */
export type GatewayConfig = Omit<Static<typeof ConfigSchema>, 'codecPolicies'> & {
  codecPolicies: { browser: CodecPolicy; upstream: CodecPolicy };
};
export type IceServer = Static<typeof IceServerSchema>;
