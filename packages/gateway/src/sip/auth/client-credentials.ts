import type { IceServer } from '../../config/config-schema.js';
import { ephemeralPassword, issueEphemeralCredential } from './credentials.js';

/** What a browser needs to register as one user: its address, SIP and TURN credentials, where to connect. */
export interface ClientCredentials {
  uri: string;
  authorizationUsername: string;
  authorizationPassword: string;
  wsServer: string;
  iceServers: IceServer[];
  /** When the SIP and TURN credentials stop working, ms since the epoch. */
  expiresAt: number;
}

/**
 * Ephemeral credentials for `user`, valid `ttlSeconds`: SIP ones (Kamailio auth_ephemeral, the
 * embedded registrar) and TURN ones (coturn use-auth-secret) for every TURN server of
 * ICE_SERVERS that names none, all signed with AUTH_SECRET.
 */
export function issueClientCredentials(
  secret: string,
  options: {
    user: string;
    sipDomain: string;
    ttlSeconds: number;
    wsServer: string;
    iceServers: IceServer[];
    /** When they count as handed out, ms since the epoch; now by default. */
    issuedAt?: number;
  },
): ClientCredentials {
  const { username, password, expiresAt } = issueEphemeralCredential(
    secret,
    options.user,
    options.ttlSeconds,
    options.issuedAt,
  );
  return {
    uri: `sip:${options.user}@${options.sipDomain}`,
    authorizationUsername: username,
    authorizationPassword: password,
    wsServer: options.wsServer,
    iceServers: options.iceServers.map((server) => {
      const urls = Array.isArray(server.urls) ? server.urls : [server.urls];
      if (server.username || !urls.some((url) => /^turns?:/i.test(url))) return server;
      return { ...server, username, credential: ephemeralPassword(secret, username) };
    }),
    expiresAt,
  };
}
