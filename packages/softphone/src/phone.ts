import type { CodecPolicy } from '@ringway/sdp';
import { type Invitation, Messager, RegistererState, SIPExtension, UserAgent } from 'sip.js';
import { type BackoffOptions, backoffDelay } from './backoff.js';
import { Call, type CallTimeouts, DEFAULT_CALL_TIMEOUTS } from './call.js';
import { CallState } from './call-state.js';
import { Emitter } from './emitter.js';
import {
  type EndReason,
  networkLost,
  RETRY_REGISTRATION,
  registrationExpired,
  registrationRefused,
  remoteRejection,
  timedOut,
} from './failure-reason.js';
import {
  type FastIceOptions,
  fastIceSessionDescriptionHandlerFactory,
  type MediaHooks,
  warmUpPeerConnections,
} from './fast-ice.js';
import { MailboxWatch } from './mailbox-watch.js';
import type { MessageSummary } from './message-summary.js';
import { type ContactPresence, pickupReplaces } from './presence.js';
import { PresenceWatch } from './presence-watch.js';
import { REGISTRATION_TRANSITIONS, RegistrationState } from './registration-state.js';
import { ReportingRegisterer } from './reporting-registerer.js';
import { ServerRing } from './server-ring.js';
import { requestOutcome } from './sip-refusal.js';
import { StateMachine } from './state-machine.js';
import { StunProbe } from './stun-probe.js';
import { targetUri } from './target-uri.js';
import { DEFAULT_WARM_MICROPHONE_MS, WarmMicrophone } from './warm-microphone.js';

/** The longest wait between reconnection attempts while a live call waits for them, ms. */
const LIVE_CALL_MAX_BACKOFF_MS = 1000;

/**
 * The WebSocket close code of a page that went away for good (the gateway's sip-websocket.ts
 * reads it as the browser's own 1001 Going Away, which a page may not send itself: only 1000 and
 * 3000–4999, WebSocket API §close()).
 */
const PAGE_CLOSED = 4001;

/** Everything a phone needs to know; every field but the first three has a default. */
export interface PhoneOptions {
  /**
   * The gateway's SIP WebSocket, e.g. `ws://127.0.0.1:8080/sip`; or those of every gateway of a
   * deployment, in order: the phone starts on the first and, when its server is gone, moves to
   * the next (server-ring.ts).
   */
  server: string | readonly string[];
  /** This phone's address, e.g. `sip:alice@127.0.0.1`. */
  aor: string;
  /** STUN/TURN servers (the gateway's ICE_SERVERS). */
  iceServers: RTCIceServer[];
  /** Digest username and password; none in anonymous development mode. */
  authorizationUsername?: string;
  authorizationPassword?: string;
  displayName?: string;
  /** Registration refresh interval asked for, seconds. Default 300. */
  registerExpires?: number;
  /** Time allowed for a REGISTER to be answered, ms. Default 10000. */
  registerTimeoutMs?: number;
  callTimeouts?: Partial<CallTimeouts>;
  backoff?: BackoffOptions;
  /** Candidate gathering: idle window and hard cap, ms (see fast-ice.ts). */
  iceIdleMs?: number;
  iceCapMs?: number;
  /**
   * How long a STUN server has to answer the phone's warm-up gathering, from its first host
   * candidate, ms; one that has not is not waited for by the calls' offers until it does
   * (stun-probe.ts). Default 100 (DEFAULT_STUN_ANSWER_MS).
   */
  stunAnswerMs?: number;
  /**
   * How long the microphone stays open with no call, ms. It is opened when the phone starts and
   * kept after each call, so that a call placed or answered meanwhile does not wait for
   * getUserMedia; but while it is open the browser shows that the page is capturing (Safari's
   * indicator, the system's). After this long without a call it is released, and the next call
   * opens it again. 0: never kept open, only during calls. Default 30000
   * (DEFAULT_WARM_MICROPHONE_MS).
   */
  warmMicrophoneMs?: number;
}

/** A watched contact's lamp changed (see `Phone.watch`). */
export interface PresenceChange {
  /** The contact as given to `watch`. */
  contact: string;
  presence: ContactPresence;
  /** A call rings for them that `Phone.pickUp(contact)` can take (the server offers pickup). */
  canPickUp: boolean;
}

export interface ChatMessage {
  from: string;
  to: string;
  text: string;
  at: number;
  direction: 'in' | 'out';
}

/**
 * A SIP.js user agent with the registration state machine of registration-state.ts, reconnection
 * with jittered exponential backoff, a warm microphone, fast ICE, and its calls as Call objects.
 */
export class Phone {
  readonly registrationChange = new Emitter<RegistrationState>();
  readonly incomingCall = new Emitter<Call>();
  readonly callAdded = new Emitter<Call>();
  readonly message = new Emitter<ChatMessage>();
  readonly presenceChange = new Emitter<PresenceChange>();
  /** The phone's voicemail box changed (see `voicemail`). */
  readonly voicemailChange = new Emitter<MessageSummary | undefined>();
  /** The microphone was opened, so the browser granted it (WarmMicrophone.opened): device lists may have grown. */
  readonly microphoneOpened: Emitter<void>;
  readonly calls: Call[] = [];
  registrationFailure: EndReason | undefined;
  readonly #ua: UserAgent;
  readonly #registration: StateMachine<RegistrationState>;
  readonly #microphone: WarmMicrophone;
  readonly #hooks = new WeakMap<object, MediaHooks>();
  readonly #timeouts: CallTimeouts;
  readonly #watches = new Map<string, PresenceWatch>();
  readonly #mailbox: MailboxWatch;
  #registerer: ReportingRegisterer | undefined;
  #registerRetryTimer: ReturnType<typeof setTimeout> | undefined;
  #registerAttempt = 0;
  #attempt = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  readonly #servers: ServerRing;
  /** The next reconnection goes to the same server: the connection was dropped here, not lost there. */
  #sameServerNext = false;
  /** What every call's media is set up with; its ICE servers change with renewed credentials. */
  readonly #media: FastIceOptions;
  readonly #stun: StunProbe;

  constructor(readonly options: PhoneOptions) {
    this.#microphone = new WarmMicrophone(options.warmMicrophoneMs ?? DEFAULT_WARM_MICROPHONE_MS);
    this.microphoneOpened = this.#microphone.opened;
    this.#stun = new StunProbe(options.stunAnswerMs);
    this.#media = {
      iceServers: options.iceServers,
      idleMs: options.iceIdleMs,
      capMs: options.iceCapMs,
      stun: this.#stun,
      mediaStreamFactory: this.#microphone.factory,
      hooksFor: (session) => this.#hooks.get(session),
    };
    this.#timeouts = { ...DEFAULT_CALL_TIMEOUTS, ...options.callTimeouts };
    this.#servers = new ServerRing(options.server);
    const uri = UserAgent.makeURI(options.aor);
    if (!uri) throw new TypeError(`"${options.aor}" is not a SIP address`);
    this.#registration = new StateMachine<RegistrationState>({
      initial: RegistrationState.Unregistered,
      transitions: REGISTRATION_TRANSITIONS,
      timeouts: { registering: options.registerTimeoutMs ?? 10_000 },
      onTimeout: () => this.#failRegistration(timedOut('registering')),
    });
    this.#registration.stateChange.addListener((state) => this.registrationChange.emit(state));
    this.#ua = new UserAgent({
      uri,
      displayName: options.displayName,
      authorizationUsername: options.authorizationUsername,
      authorizationPassword: options.authorizationPassword,
      transportOptions: { server: this.#servers.current, connectionTimeout: 5 },
      // Reconnection is ours (jittered backoff, then a fresh Registerer): SIP.js's is a fixed delay.
      reconnectionAttempts: 0,
      // Attended transfer (RFC 3891): an INVITE that replaces one of our calls.
      sipExtensionReplaces: SIPExtension.Supported,
      // Reliable provisional responses (RFC 3262): `Supported: 100rel` on our INVITEs, so that a
      // trunk or PBX that sends its 18x (and early media) reliably only to callers that support
      // it does; SIP.js PRACKs them. An incoming `Require: 100rel` INVITE rings as any other.
      sipExtension100rel: SIPExtension.Supported,
      logBuiltinEnabled: false,
      sessionDescriptionHandlerFactory: fastIceSessionDescriptionHandlerFactory(this.#media),
      delegate: {
        onInvite: (invitation) => this.#onInvite(invitation),
        onConnect: () => this.#onConnect(),
        onDisconnect: (error) => this.#onDisconnect(error),
        onMessage: (message) => {
          this.message.emit({
            from: message.request.from.uri.toString(),
            to: options.aor,
            text: message.request.body,
            at: Date.now(),
            direction: 'in',
          });
          void message.accept();
        },
      },
    });
    this.#mailbox = new MailboxWatch(this.#ua, uri, (summary) => this.voicemailChange.emit(summary));
  }

  get registrationState(): RegistrationState {
    return this.#registration.state;
  }

  get userAgent(): UserAgent {
    return this.#ua;
  }

  /**
   * The WebSocket server the phone is on, or is connecting to; it changes when the phone moves
   * to the next of `options.server` (registrationChange then says reconnecting, registering…).
   */
  get server(): string {
    return this.#servers.current;
  }

  /**
   * Connects, warms the microphone (unless `warmMicrophoneMs` is 0) and registers. Resolves when
   * registered; rejects on failure.
   */
  async start(): Promise<void> {
    this.#stopped = false;
    if (this.#microphone.keepsWarm) void this.#microphone.warm().catch(() => undefined);
    void warmUpPeerConnections(this.#media.iceServers, this.#stun).catch(() => undefined);
    this.#registration.transition(RegistrationState.Registering);
    const registered = this.#whenRegistered();
    await this.#ua.start().catch((error: Error) => this.#onDisconnect(error));
    await registered;
  }

  /**
   * The device's network changed (the browser's `online` event, a new connection type): the
   * WebSocket may be bound to a path that no longer exists, so reconnect now rather than wait
   * for it to time out; live calls then restart their media.
   */
  networkChanged(): void {
    if (this.#stopped || !this.#ua.transport.isConnected()) return;
    // The server is still there (our network changed), and the live calls' dialogs run through it.
    this.#sameServerNext = true;
    // SIP.js reports the disconnect to #onDisconnect, which reconnects as after any loss. Its
    // promise rejects ("Disconnect aborted.") when the connection closes by itself meanwhile:
    // the same end, already reported.
    this.#ua.transport.disconnect().catch(() => undefined);
  }

  /**
   * The page is going away for good (its tab closed, another page loaded): the connection is
   * closed now, saying so, and nothing reconnects. The gateway then unregisters the page's
   * contact at an upstream registrar at once, rather than leave calls forking to it until it
   * expires. The browser's own close says as much (1001 Going Away) when the page's teardown
   * gets to run, but a renderer ended without it leaves only a connection lost (1006), which
   * the gateway must take for a network change and leave registered: seen in CI, on a browser
   * context closed under load.
   */
  pageClosed(): void {
    this.#halt();
    const { ws } = this.#ua.transport as unknown as { ws?: WebSocket };
    ws?.close(PAGE_CLOSED, 'page closed');
  }

  /**
   * Renewed credentials for the same identity (a sign-in renewed before it expires): the
   * registration is refreshed with them at once (so a credential that does not work shows now,
   * not hours later), and calls set up from now on use the new TURN ones.
   */
  updateCredentials(credentials: {
    authorizationUsername: string;
    authorizationPassword: string;
    iceServers: RTCIceServer[];
  }): void {
    this.#ua.configuration.authorizationUsername = credentials.authorizationUsername;
    this.#ua.configuration.authorizationPassword = credentials.authorizationPassword;
    this.#media.iceServers = credentials.iceServers;
    if (this.#stopped) return;
    if (this.registrationState === RegistrationState.Registered)
      void this.#registerer?.register().catch(() => undefined);
    // Refused for want of good credentials (a refresh after the old ones expired): try the new ones.
    else if (
      this.registrationState === RegistrationState.Unregistered ||
      this.registrationState === RegistrationState.Failed
    )
      this.#registerAgain();
  }

  /** Unregisters and disconnects; live calls are hung up. */
  async stop(): Promise<void> {
    this.#halt();
    await Promise.all(this.calls.map((call) => call.hangup().catch(() => undefined)));
    await this.#registerer?.unregister().catch(() => undefined);
    if (this.#registration.canMoveTo(RegistrationState.Unregistered)) {
      this.#registration.transition(RegistrationState.Unregistered);
    }
    for (const watch of this.#watches.values()) watch.stop();
    this.#mailbox.stop();
    this.#microphone.stop();
    await this.#ua.stop();
  }

  /**
   * Calls a user, a number or a SIP URI. `codecPolicy` (@ringway/sdp) filters and orders this
   * call's offers in the browser, as the gateway's policy does in flight.
   */
  dial(target: string, options: { video?: boolean; codecPolicy?: CodecPolicy } = {}): Call {
    const call = Call.dial(this.#ua, target, { timeouts: this.#timeouts, ...options });
    this.#track(call);
    return call;
  }

  /**
   * Sends a chat message (MESSAGE, RFC 3428). Resolves once the other side accepted it (2xx);
   * rejects with SipRefusal (404, 480, …) when it did not, or when it could not be sent.
   */
  async sendMessage(target: string, text: string): Promise<void> {
    const uri = targetUri(this.#ua, target);
    const messager = new Messager(this.#ua, uri, text);
    await requestOutcome('MESSAGE', (requestDelegate) => messager.message({ requestDelegate }));
    this.message.emit({ from: this.options.aor, to: uri.toString(), text, at: Date.now(), direction: 'out' });
  }

  /**
   * Watches a contact's presence and calls (SUBSCRIBE to its presence and dialog packages):
   * `presenceChange` tells every change of its lamp. Kept across reconnections.
   */
  watch(contact: string): void {
    if (this.#watches.has(contact)) return;
    const watch: PresenceWatch = new PresenceWatch(this.#ua, targetUri(this.#ua, contact), (presence) =>
      this.presenceChange.emit({ contact, presence, canPickUp: watch.ringingCall !== undefined }),
    );
    this.#watches.set(contact, watch);
    if (this.registrationState === RegistrationState.Registered) watch.restart();
  }

  unwatch(contact: string): void {
    this.#watches.get(contact)?.stop();
    this.#watches.delete(contact);
  }

  /**
   * Directed call pickup: answers, here, a call ringing for a watched contact. The INVITE goes to
   * the caller with Replaces (RFC 3891, early-only), built from what the contact's dialog
   * document told (RFC 4235); the caller's phone drops the ringing call for this one.
   */
  pickUp(contact: string): Call {
    const ringing = this.#watches.get(contact)?.ringingCall;
    if (!ringing) throw new Error(`no call ringing for ${contact} that can be picked up`);
    const call = Call.dial(this.#ua, ringing.caller, {
      timeouts: this.#timeouts,
      extraHeaders: [`Replaces: ${pickupReplaces(ringing)}`],
    });
    this.#track(call);
    return call;
  }

  /**
   * The phone's voicemail box as its server tells it (message-summary, RFC 3842): new and old
   * messages and the address that plays them. Undefined while registering, and where the server
   * has no voicemail for this phone (it refused the subscription).
   */
  get voicemail(): MessageSummary | undefined {
    return this.#mailbox.summary;
  }

  /** A watched contact's lamp now; `unknown` for one not watched. */
  presenceOf(contact: string): ContactPresence {
    return this.#watches.get(contact)?.presence ?? 'unknown';
  }

  #track(call: Call): void {
    this.#hooks.set(call.session, call);
    this.calls.push(call);
    this.#microphone.callsLive(true);
    call.referred.addListener((inviter) =>
      this.#track(Call.fromInviter(inviter, { timeouts: this.#timeouts })),
    );
    call.stateChange.addListener(() => {
      const index = this.calls.indexOf(call);
      if (!call.endReason || index === -1) return;
      this.calls.splice(index, 1);
      if (this.calls.length === 0) this.#microphone.callsLive(false);
    });
    this.callAdded.emit(call);
  }

  #onInvite(invitation: Invitation): void {
    const call = Call.incoming(invitation, { timeouts: this.#timeouts });
    this.#track(call);
    // The far end of an attended transfer: the new call takes the place of one we already
    // accepted, so it is answered at once (SIP.js then ends the replaced one with BYE).
    // Or a colleague picked up the call we are placing (its early dialog): the new call is
    // answered and the ringing one cancelled here, as SIP.js can send no BYE on an early dialog.
    const replacee = invitation.replacee;
    if (replacee) {
      const replaced = this.calls.find((c) => c.session === replacee);
      if (replaced && replaced.direction === 'outgoing' && !replaced.answeredAt) {
        (invitation as unknown as { _replacee: unknown })._replacee = undefined;
        void call.answer().then(() => replaced.hangup());
      } else void call.answer();
      return;
    }
    this.incomingCall.emit(call);
  }

  /** Uses another microphone for the calls that follow. */
  useMicrophone(deviceId: string): Promise<MediaStream> {
    return this.#microphone.use(deviceId);
  }

  #whenRegistered(): Promise<void> {
    return new Promise((resolve, reject) => {
      const listener = (state: RegistrationState) => {
        if (state === RegistrationState.Registered) resolve();
        else if (state === RegistrationState.Failed)
          reject(new Error(this.registrationFailure?.text ?? 'registration failed'));
        else return;
        this.registrationChange.removeListener(listener);
      };
      this.registrationChange.addListener(listener);
    });
  }

  #onConnect(): void {
    this.#attempt = 0;
    clearTimeout(this.#registerRetryTimer);
    if (this.#registration.state === RegistrationState.Reconnecting) {
      this.#registration.transition(RegistrationState.Registering);
    }
    this.#register();
  }

  /**
   * Lets the Registerer of a lost connection go, as soon as it is lost. SIP.js's `dispose()`
   * unregisters a Registerer that thinks itself registered: here that un-REGISTER finds no
   * connection to leave on. Disposed on the next connection instead, it went out there right
   * before the new REGISTER of the same contact, and a registrar with several workers (Kamailio
   * over UDP) could apply it last: no binding left while the page said "registered".
   */
  #retireRegisterer(): void {
    const retired = this.#registerer;
    this.#registerer = undefined;
    void retired?.dispose().catch(() => undefined);
  }

  /**
   * A fresh Registerer for every connection: SIP.js's refuses a new REGISTER while an old one is
   * pending, which after a lost connection it may be forever.
   */
  #register(): void {
    this.#retireRegisterer();
    const registerer = new ReportingRegisterer(this.#ua, {
      expires: this.options.registerExpires ?? 300,
      // SIP.js refreshes at 99 % of the expiry by default: with a registrar's short expiry (tens
      // of seconds), a challenged refresh may not be answered before the binding lapses.
      refreshFrequency: 90,
    });
    this.#registerer = registerer;
    registerer.onRefused = (response) => {
      if (registerer !== this.#registerer) return;
      const code = response.message.statusCode ?? 0;
      // The first REGISTER's refusal is the register() call's own (Failed, below).
      if (this.registrationState === RegistrationState.Registered)
        this.#registrationLost(registrationRefused(code, response.message.reasonPhrase ?? ''), code);
    };
    registerer.stateChange.addListener((state) => {
      if (registerer !== this.#registerer) return;
      // Unregistered by the server: a refused refresh (its onRefused comes right after this, with
      // the status) or no accepted refresh before the expiry.
      if (state === RegistererState.Unregistered && !this.#stopped)
        queueMicrotask(() => {
          if (registerer === this.#registerer && this.registrationState === RegistrationState.Registered)
            this.#registrationLost(registrationExpired(), undefined);
        });
      if (
        state === RegistererState.Registered &&
        this.#registration.canMoveTo(RegistrationState.Registered)
      ) {
        this.registrationFailure = undefined;
        this.#registerAttempt = 0;
        this.#registration.transition(RegistrationState.Registered);
        // Registered again, so the far side can reach us: restart the media of live calls.
        for (const call of this.calls) call.recover();
        // A new connection: the server forgot the old one's subscriptions.
        for (const watch of this.#watches.values()) watch.restart();
        this.#mailbox.restart();
      }
    });
    registerer
      .register({
        requestDelegate: {
          onReject: (response) => {
            const code = response.message.statusCode ?? 0;
            this.#failRegistration(remoteRejection(code, response.message.reasonPhrase ?? ''));
          },
        },
      })
      .catch((error: Error) => this.#failRegistration(networkLost(error.message)));
  }

  /**
   * The server no longer has our registration: say why, and register again after a backoff
   * when the refusal was one that passes (`status` undefined: it expired unanswered).
   */
  #registrationLost(reason: EndReason, status: number | undefined): void {
    if (this.#stopped || !this.#registration.canMoveTo(RegistrationState.Unregistered)) return;
    this.registrationFailure = reason;
    this.#registration.transition(RegistrationState.Unregistered);
    if (status !== undefined && !RETRY_REGISTRATION.has(status)) return;
    clearTimeout(this.#registerRetryTimer);
    this.#registerRetryTimer = setTimeout(
      () => this.#registerAgain(),
      backoffDelay(this.#registerAttempt++, this.options.backoff),
    );
  }

  /** Nothing reconnects or registers again from now on: the phone is being stopped. */
  #halt(): void {
    this.#stopped = true;
    this.#sameServerNext = false;
    clearTimeout(this.#reconnectTimer);
    clearTimeout(this.#registerRetryTimer);
  }

  /** A new REGISTER on the connection we have (none: the reconnection registers). */
  #registerAgain(): void {
    clearTimeout(this.#registerRetryTimer);
    if (this.#stopped || !this.#ua.transport.isConnected()) return;
    if (!this.#registration.canMoveTo(RegistrationState.Registering)) return;
    this.#registration.transition(RegistrationState.Registering);
    this.#register();
  }

  #failRegistration(reason: EndReason): void {
    if (!this.#registration.canMoveTo(RegistrationState.Failed)) return;
    this.registrationFailure = reason;
    this.#registration.transition(RegistrationState.Failed);
  }

  #onDisconnect(error?: Error): void {
    if (this.#stopped) return;
    this.#retireRegisterer();
    for (const call of this.calls) call.connectionLost();
    if (this.#registration.canMoveTo(RegistrationState.Reconnecting)) {
      this.registrationFailure = networkLost(error?.message);
      this.#registration.transition(RegistrationState.Reconnecting);
    }
    if (this.#registration.state !== RegistrationState.Reconnecting) return;
    clearTimeout(this.#reconnectTimer);
    // A live call is worth coming back for quickly (its media restarts only once we are
    // registered again): while one waits, attempts are at most a second apart.
    const waiting = this.calls.some((call) => call.state === CallState.Reconnecting);
    const backoff = waiting
      ? {
          ...this.options.backoff,
          maxMs: Math.min(this.options.backoff?.maxMs ?? 30_000, LIVE_CALL_MAX_BACKOFF_MS),
        }
      : this.options.backoff;
    const delay = backoffDelay(this.#attempt++, backoff);
    this.#reconnectTimer = setTimeout(() => {
      if (this.#sameServerNext) this.#sameServerNext = false;
      else this.#moveTo(this.#servers.advance());
      this.#ua.reconnect().catch((reconnectError: Error) => this.#onDisconnect(reconnectError));
    }, delay);
  }

  /**
   * Points the transport at another server for its next connect(). SIP.js 0.21's WebSocket
   * transport has no API for it: it reads its private `configuration.server` on every connect
   * (lib/platform/web/transport/transport.js), so that field is set, as the constructor would.
   */
  #moveTo(server: string): void {
    (this.#ua.transport as unknown as { configuration: { server: string } }).configuration.server = server;
  }
}
