import {
  type Invitation,
  Inviter,
  Registerer,
  RegistererState,
  type Session,
  type SessionDescriptionHandler,
  type SessionDescriptionHandlerOptions,
  SessionState,
  UserAgent,
  type UserAgentOptions,
} from 'sip.js';
import WebSocket from 'ws';

// SIP.js's web transport uses the global WebSocket, which Node 20 lacks.
(globalThis as unknown as { WebSocket: unknown }).WebSocket ??= WebSocket;

let sdpVersion = 0;

/**
 * An SDP body for SIP.js in Node, where there is no WebRTC: these tests are about signalling;
 * media is proven in the browser tests.
 */
export function staticSdp(port: number, direction = 'sendrecv'): string {
  sdpVersion += 1;
  return [
    'v=0',
    `o=- 4242 ${sdpVersion} IN IP4 127.0.0.1`,
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${port} RTP/AVP 0 101`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:101 telephone-event/8000',
    `a=${direction}`,
    '',
  ].join('\r\n');
}

export class StaticSessionDescriptionHandler implements SessionDescriptionHandler {
  remote: string | undefined;
  held = false;
  close(): void {}
  async getDescription(
    options?: SessionDescriptionHandlerOptions & { hold?: boolean },
  ): Promise<{ body: string; contentType: string }> {
    this.held = Boolean(options?.hold);
    return { body: staticSdp(40000, this.held ? 'sendonly' : 'sendrecv'), contentType: 'application/sdp' };
  }
  hasDescription(contentType: string): boolean {
    return contentType === 'application/sdp';
  }
  async setDescription(sdp: string): Promise<void> {
    this.remote = sdp;
  }
  sendDtmf(): boolean {
    return true;
  }
}

export interface Phone {
  ua: UserAgent;
  registerer: Registerer;
  invitations: Invitation[];
  nextInvitation(timeoutMs?: number): Promise<Invitation>;
  messages: string[];
  stop(): Promise<void>;
}

/** A SIP.js user agent connected to the gateway (registered unless `register: false`). */
export async function sipjsPhone(
  wsUrl: string,
  user: string,
  options: Partial<UserAgentOptions> & { register?: boolean; domain?: string } = {},
): Promise<Phone> {
  const invitations: Invitation[] = [];
  const messages: string[] = [];
  const waiting: Array<(i: Invitation) => void> = [];
  const { register = true, domain = 'ringway.test', ...uaOptions } = options;
  const ua = new UserAgent({
    uri: UserAgent.makeURI(`sip:${user}@${domain}`),
    transportOptions: { server: wsUrl },
    sessionDescriptionHandlerFactory: () => new StaticSessionDescriptionHandler(),
    logBuiltinEnabled: false,
    logLevel: 'error',
    delegate: {
      onInvite: (invitation) => {
        invitations.push(invitation);
        waiting.shift()?.(invitation);
      },
      onMessage: (message) => {
        messages.push(message.request.body);
        void message.accept();
      },
    },
    ...uaOptions,
  });
  await ua.start();
  const registerer = new Registerer(ua, { expires: 300 });
  if (register) await registered(registerer);
  return {
    ua,
    registerer,
    invitations,
    messages,
    nextInvitation: (timeoutMs = 3000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${user} got no INVITE`)), timeoutMs);
        waiting.push((i) => {
          clearTimeout(timer);
          resolve(i);
        });
      }),
    stop: async () => {
      await ua.stop();
    },
  };
}

/** Sends REGISTER and resolves once registered; rejects with the final status otherwise. */
export function registered(registerer: Registerer): Promise<void> {
  return new Promise((resolve, reject) => {
    const onState = (state: RegistererState) => {
      if (state === RegistererState.Registered) resolve();
    };
    registerer.stateChange.addListener(onState);
    registerer
      .register({
        requestDelegate: {
          onReject: (response) => reject(new Error(`REGISTER refused: ${response.message.statusCode}`)),
        },
      })
      .catch(reject);
  });
}

/** Resolves when the session reaches `state`. */
export function reached(session: Session, state: SessionState, timeoutMs = 3000): Promise<void> {
  if (session.state === state) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`session stayed ${session.state}, wanted ${state}`)),
      timeoutMs,
    );
    session.stateChange.addListener((s) => {
      if (s === state) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

/** Sends the INVITE and collects the status codes the caller sees. */
export function dial(inviter: Inviter): { statuses: number[]; done: Promise<void> } {
  const statuses: number[] = [];
  const done = inviter
    .invite({
      requestDelegate: {
        onProgress: (r) => statuses.push(r.message.statusCode ?? 0),
        onAccept: (r) => statuses.push(r.message.statusCode ?? 0),
        onReject: (r) => statuses.push(r.message.statusCode ?? 0),
      },
    })
    .then(() => undefined);
  return { statuses, done };
}

export { SessionState };

/** `caller` calls `target` and `callee` answers: resolves once the caller's session is established. */
export async function establishedCall(
  caller: Phone,
  callee: Phone,
  target: string,
): Promise<{ inviter: Inviter; invitation: Invitation }> {
  const inviter = new Inviter(caller.ua, UserAgent.makeURI(target) as never);
  dial(inviter);
  const invitation = await callee.nextInvitation();
  await invitation.accept();
  await reached(inviter, SessionState.Established);
  return { inviter, invitation };
}
