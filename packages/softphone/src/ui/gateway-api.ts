/** What the gateway tells the page (GET /api/config). */
export interface GatewaySettings {
  sipDomain: string;
  wsPath: string;
  /**
   * The SIP WebSockets of every gateway of the deployment (WS_SERVERS), this one included; none
   * when this gateway is alone. The page's phone starts on its own gateway and moves round these.
   */
  wsServers: string[];
  iceServers: RTCIceServer[];
  anonymous: boolean;
  /** People sign in with a password at /api/sign-in, for ephemeral credentials. */
  signIn: boolean;
  /** Who may create a call link (CALL_LINKS): nobody, people signed in, or anyone. */
  callLinks: 'off' | 'signed-in' | 'anyone';
}

/** Credentials the gateway hands out with a sign-in or a rendezvous session (POST /api/sessions, …/join). */
export interface SessionCredentials {
  uri: string;
  authorizationUsername: string;
  authorizationPassword: string;
  wsServer: string;
  iceServers: RTCIceServer[];
}

/** What /api/sign-in and /api/sign-in/renew answer. */
export interface SignInReply {
  credentials: SessionCredentials;
  renewAt: string;
  renewToken: string;
  /** The operator's other users, listed as contacts. */
  directory: string[];
}

/** What POST /api/sessions and /api/sessions/{code}/join answer. */
export interface SessionReply {
  id: string;
  state: string;
  reason: string;
  joinUrl?: string;
  peer?: string;
  credentials: SessionCredentials;
}

function wsUrl(path: string): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`;
}

/** The person's phone's servers: the gateway that served this page first, then the deployment's others. */
export function ownServers(settings: GatewaySettings): string[] {
  return [wsUrl(settings.wsPath), ...settings.wsServers];
}
