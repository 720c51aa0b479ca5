import {
  backoffDelay,
  type Call,
  type CallQualityReport,
  CallState,
  isFinal,
  type MessageSummary,
  Phone,
  type QualitySample,
  RENEWAL_BACKOFF,
  RegistrationState,
  renewalEndsSignIn,
  signInIdentity,
} from '../index.js';
import { actionFailure, deliveryText, type UserAction } from './action-outcome.js';
import { AudioMeter } from './audio-meter.js';
import { ContactList } from './contact-list.js';
import { dialLinkTarget, linkHandlerUrl } from './dial-link.js';
import { IncomingNotification } from './incoming-notification.js';
import { SHORTCUTS, shortcutFor } from './keyboard-shortcuts.js';
import { resumeAudioOnGesture } from './page-audio.js';
import { drawQualityChart, type QualityPoint, qualityPoints } from './quality-chart.js';
import { ringTone } from './ring-tone.js';
import { callDuration, screenFor } from './screen.js';
import { voicemailWords } from './voicemail.js';
import { drawWaterfallChart } from './waterfall-chart.js';

/** What the gateway tells the page (GET /api/config). */
interface GatewaySettings {
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

const $ = <E extends HTMLElement>(id: string) => document.getElementById(id) as E;
const HISTORY_KEY = 'ringway.history';
const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];

/** The phone on screen: the person's own, or a call link's identity while the link runs. */
let phone: Phone | undefined;
/** The person's own phone (signed in, or registered as a user): never a call link's identity. */
let own: Phone | undefined;
/** Who may create a call link here (GET /api/config); nobody until the gateway says. */
let callLinks: GatewaySettings['callLinks'] = 'off';
let current: Call | undefined;
const ring = ringTone(() => $<HTMLSelectElement>('output-device').value);
const incomingNotification = new IncomingNotification();
let contacts: ContactList | undefined;

function show(id: string, visible: boolean): void {
  $(id).hidden = !visible;
}

function setText(id: string, text: string): void {
  $(id).textContent = text;
}

/**
 * Runs what a person asked for; a failure shows in the page's one error banner (role=alert) with
 * the reason, in place of the last one. A new action clears it.
 */
function attempt(action: UserAction, run: () => unknown): Promise<void> {
  const banner = $('action-error');
  banner.hidden = true;
  banner.textContent = '';
  return Promise.resolve()
    .then(run)
    .then(
      () => undefined,
      (error: unknown) => {
        const text = actionFailure(action, error);
        console.warn(`[ringway] ${text}`);
        banner.textContent = text;
        banner.dataset.action = action;
        banner.hidden = false;
      },
    );
}

function wsUrl(path: string): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`;
}

/** The person's phone's servers: the gateway that served this page first, then the deployment's others. */
function ownServers(settings: GatewaySettings): string[] {
  return [wsUrl(settings.wsPath), ...settings.wsServers];
}

function describe(call: Call): string {
  if (call.endReason) return `${call.state}: ${call.endReason.text}`;
  if (call.heldByRemote && call.state === CallState.Active) return 'held by the other side';
  return call.state;
}

function renderRegistration(state: RegistrationState): void {
  const badge = $('registration-state');
  badge.textContent = state;
  badge.dataset.state = state;
  // Which gateway: the phone moves to another when its own is gone.
  setText('server', phone?.server ?? '');
  setText(
    'registration-reason',
    state === RegistrationState.Registered ? '' : (phone?.registrationFailure?.text ?? ''),
  );
  const ready = isReady(state);
  for (const id of ['dialer', 'contacts', 'devices', 'chat']) show(id, ready || !$('dialer').hidden);
  show('sign-in', !ready && state !== RegistrationState.Registering);
  renderScreen();
}

/** Registered, or reconnecting with the calls kept: the phone's screens rather than sign-in. */
function isReady(state: RegistrationState | undefined): boolean {
  return state === RegistrationState.Registered || state === RegistrationState.Reconnecting;
}

/** Picks the screen for the situation (screen.ts); the style sheet shows that screen's sections. */
function renderScreen(): void {
  const calls = phone?.calls.filter((c) => !isFinal(c.state)) ?? [];
  const ringingForUs = (c: Call) => c.direction === 'incoming' && c.state === CallState.Ringing;
  const screen = screenFor({
    ready: isReady(phone?.registrationState),
    ringing: calls.some(ringingForUs),
    liveCalls: calls.filter((c) => !ringingForUs(c) && c.state !== CallState.Idle).length,
  });
  document.body.dataset.screen = screen;
  // Only idle: starting a link takes this page's phone away from the person (startSessionAsCreator).
  show('own-link', screen === 'idle' && phone !== undefined && phone === own && mayCreateLink());
  // Adding a call is over once there is no call to add to.
  if (screen !== 'in-call') delete document.body.dataset.adding;
  show('incoming-waiting', screen === 'in-call');
}

/** The running call's length, once a second while a call is on screen. */
function renderTimer(): void {
  const answeredAt = current && !isFinal(current.state) ? current.answeredAt : undefined;
  setText('call-timer', answeredAt === undefined ? '0:00' : callDuration(Date.now() - answeredAt));
}

function renderLines(): void {
  const list = $('lines');
  list.replaceChildren(
    ...(phone?.calls ?? []).map((call) => {
      const item = document.createElement('li');
      const button = document.createElement('button');
      button.textContent = `${call.remote} — ${call.state}`;
      button.dataset.state = call.state;
      button.setAttribute('aria-current', String(call === current));
      button.addEventListener('click', () => select(call));
      item.append(button);
      return item;
    }),
  );
  show('attended-button', (phone?.calls.filter((c) => !isFinal(c.state)).length ?? 0) > 1);
  renderScreen();
}

function renderCall(): void {
  const call = current;
  drawChart(call?.samples ?? []);
  setText('call-state', call ? describe(call) : 'idle');
  show('active-call', call !== undefined && !isFinal(call.state) && call.state !== CallState.Idle);
  if (!call || isFinal(call.state)) stopMeters();
  if (!call) return;
  setText('call-remote', `${call.direction === 'outgoing' ? 'To' : 'From'} ${call.remote}`);
  renderTimer();
  const hold = $('hold-button');
  hold.textContent = call.state === CallState.Held ? 'Resume' : 'Hold';
  hold.setAttribute('aria-pressed', String(call.state === CallState.Held));
  const mute = $('mute-button');
  mute.textContent = call.muted ? 'Unmute' : 'Mute';
  mute.setAttribute('aria-pressed', String(call.muted));
  drawWaterfallChart($<HTMLElement>('waterfall-chart') as unknown as SVGSVGElement, call.waterfall.entries());
  $('waterfall').replaceChildren(
    ...call.waterfall.entries().map(([step, ms]) => {
      const item = document.createElement('li');
      item.textContent = `${step}: ${ms} ms`;
      item.dataset.step = step;
      return item;
    }),
  );
  setText('call-warning', call.warnings.map((w) => w.text).join(' · '));
  $('call-warning').dataset.kinds = call.warnings.map((w) => w.kind).join(' ');
  attachMedia(call);
}

/** The level meters of the call on screen: this side's microphone and the far end. */
const meters: Partial<Record<'mic-level' | 'far-level', AudioMeter>> = {};

function meter(id: 'mic-level' | 'far-level', stream: MediaStream | undefined): void {
  if (meters[id]?.stream === stream) return;
  meters[id]?.stop();
  delete meters[id];
  const element = $<HTMLMeterElement>(id);
  element.value = 0;
  if (!stream || stream.getAudioTracks().length === 0) return;
  let peak = 0;
  meters[id] = new AudioMeter(stream, (level) => {
    element.value = level;
    peak = Math.max(peak, level);
    // The loudest this call has been, for whoever checks that sound went through at all.
    element.dataset.peak = peak.toFixed(4);
  });
}

function stopMeters(): void {
  meter('mic-level', undefined);
  meter('far-level', undefined);
}

function attachMedia(call: Call): void {
  const stream = call.remoteStream;
  if (!stream) return;
  meter('mic-level', call.localStream);
  meter('far-level', stream);
  const audio = $<HTMLAudioElement>('remote-audio');
  if (audio.srcObject !== stream) audio.srcObject = stream;
  const video = $<HTMLVideoElement>('remote-video');
  video.hidden = !call.video;
  if (call.video && video.srcObject !== stream) video.srcObject = stream;
}

function renderStats(sample: QualitySample, call: Call): void {
  const fmt = (n: number | undefined, unit: string) => (n === undefined ? '–' : `${Math.round(n)} ${unit}`);
  setText(
    'call-stats',
    `codec ${sample.codec ?? '–'} · rtt ${fmt(sample.rttMs, 'ms')} · jitter ${fmt(sample.jitterMs, 'ms')} · loss ${sample.lossPercent.toFixed(1)} % · ${sample.bitrateKbps} kbit/s · MOS ${sample.mos}`,
  );
  $('call-stats').dataset.bytesReceived = String(sample.bytesReceived);
  // Said rather than silently missing: where the browser does not report it, no "no input".
  show('mic-check', call.microphoneMeasured === false);
  const badge = $('quality-badge');
  badge.hidden = false;
  badge.dataset.grade = qualityGrade(sample.mos);
  badge.textContent = `${qualityGrade(sample.mos)} · MOS ${sample.mos}`;
  drawChart(call.samples);
}

/** The quality badge's word for a MOS (ITU-T G.107's user satisfaction bands, coarsened). */
function qualityGrade(mos: number): 'good' | 'fair' | 'poor' {
  if (mos >= 4) return 'good';
  return mos >= 3.6 ? 'fair' : 'poor';
}

/**
 * The call's quality so far (MOS, jitter, loss, RTT), the same chart its history entry keeps;
 * shown once there are two points to join.
 */
function drawChart(samples: QualitySample[]): void {
  const chart = $('quality-chart') as unknown as SVGSVGElement;
  const points = qualityPoints(samples);
  chart.toggleAttribute('hidden', points.length < 2);
  if (points.length >= 2) drawQualityChart(chart, points);
}

function saveHistory(call: Call): void {
  const history = JSON.parse(localStorage.getItem(HISTORY_KEY) ?? '[]') as unknown[];
  history.unshift({ ...call.summary(), quality: call.qualityReport(), points: qualityPoints(call.samples) });
  localStorage.setItem(HISTORY_KEY, JSON.stringify(history.slice(0, 100)));
  renderHistory();
}

function renderHistory(): void {
  const history = JSON.parse(localStorage.getItem(HISTORY_KEY) ?? '[]') as Array<
    ReturnType<Call['summary']> & { quality?: CallQualityReport; points?: QualityPoint[] }
  >;
  $('history-list').replaceChildren(
    ...history.slice(0, 20).map((entry) => {
      const item = document.createElement('li');
      const when = new Date(entry.startedAt).toLocaleTimeString();
      const end = entry.endReason ? ` — ${entry.endReason.text}` : '';
      const quality = entry.quality;
      const notes = [
        quality?.mos ? `MOS ${quality.mos}` : '',
        quality?.reconnects ? `${quality.reconnects} reconnection(s)` : '',
        ...(quality?.warnings ?? []),
      ].filter(Boolean);
      item.textContent = `${when} ${entry.direction === 'outgoing' ? '→' : '←'} ${entry.remote}${end}${notes.length ? ` (${notes.join(', ')})` : ''}`;
      // The call's quality over its length, kept with the entry.
      if (entry.points && entry.points.length > 1) {
        const chart = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
        chart.classList.add('quality-chart');
        chart.setAttribute('role', 'img');
        chart.setAttribute('aria-label', 'Call quality over the call: MOS, jitter, loss, RTT');
        chart.setAttribute('data-testid', 'history-quality-chart');
        drawQualityChart(chart, entry.points);
        item.append(chart);
      }
      return item;
    }),
  );
}

function select(call: Call): void {
  current = call;
  renderCall();
  renderLines();
}

function follow(call: Call): void {
  call.stateChange.addListener((state) => {
    if (state !== CallState.Ringing || call.direction === 'outgoing') ring.stop();
    if (call.direction === 'incoming' && state !== CallState.Ringing) incomingNotification.close();
    if (isFinal(state)) {
      if (call.direction === 'incoming') show('incoming', false);
      saveHistory(call);
      if (call.state !== CallState.Failed || call.samples.length > 0) sendQualityReport(call);
    }
    // The screen shows the chosen call while it lives, else the newest live call, else the last one.
    if (!current || isFinal(current.state)) current = phone?.calls.at(-1) ?? call;
    console.info(
      `[ringway] ${call.id} ${state}${call.endReason ? ` (${call.endReason.text})` : ''} ${call.waterfall}`,
    );
    renderCall();
    renderLines();
  });
  call.quality.addListener((sample) => {
    if (call === current) renderStats(sample, call);
  });
  call.remoteHoldChange.addListener((held) => {
    console.info(
      `[ringway] ${call.id} ${held ? 'held by the other side' : 'taken off hold by the other side'}`,
    );
    if (call === current) renderCall();
  });
  call.mediaWarning.addListener(({ started, cleared }) => {
    for (const warning of started)
      console.warn(`[ringway] ${call.id} warning ${warning.kind} (${warning.cause}): ${warning.text}`);
    for (const kind of cleared) console.info(`[ringway] ${call.id} warning ${kind} cleared`);
    if (call === current) renderCall();
  });
}

/** Puts the call on screen on hold, if it is active: a new call becomes the second line. */
function holdCurrent(): Promise<void> {
  return current?.state === CallState.Active ? current.hold() : Promise.resolve();
}

/** Dials from the dial field or a contact; a call in progress goes on hold first (a second line). */
function dialFromUi(target: string): void {
  if (!target || !phone) return;
  delete document.body.dataset.adding;
  void attempt('dial', async () => {
    await holdCurrent();
    phone?.dial(target, { video: $<HTMLInputElement>('video-checkbox').checked });
  }).then(renderCall);
}

/**
 * The voicemail lamp and count, shown while the phone's server tells its mailbox. The button
 * calls the address that plays the messages (Message-Account); without one it is disabled.
 */
function renderVoicemail(summary: MessageSummary | undefined): void {
  show('voicemail', summary !== undefined);
  document.body.dataset.voicemail = summary === undefined ? '' : summary.waiting ? 'waiting' : 'empty';
  setText('voicemail-count', summary ? voicemailWords(summary) : '');
  $<HTMLButtonElement>('voicemail-button').disabled = !summary?.account;
}

/** Picks up a call ringing for a contact; a call in progress goes on hold first, as for a dial. */
function pickUpFromUi(contact: string): void {
  if (!phone) return;
  // The call may have stopped ringing between the lamp and the click: the banner says so.
  void attempt('answer', async () => {
    await holdCurrent();
    phone?.pickUp(contact);
  }).then(renderCall);
}

/** The call's quality report, to the gateway's metrics (POST /api/calls/{callId}/quality). */
function sendQualityReport(call: Call): void {
  const report = call.qualityReport();
  if (!call.callToken) {
    console.warn('[ringway] quality report not sent: the gateway handed this call no token');
    return;
  }
  void fetch(`/api/calls/${encodeURIComponent(report.callId)}/quality`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${call.callToken}` },
    body: JSON.stringify({ ...report, callId: undefined }),
    // The page may be closing as the call ends.
    keepalive: true,
  }).catch((error: Error) => console.warn('[ringway] quality report not sent', error.message));
}

/** Credentials the gateway hands out with a rendezvous session (POST /api/sessions, …/join). */
interface SessionCredentials {
  uri: string;
  authorizationUsername: string;
  authorizationPassword: string;
  wsServer: string;
  iceServers: RTCIceServer[];
}

/** What /api/sign-in and /api/sign-in/renew answer. */
interface SignInReply {
  credentials: SessionCredentials;
  renewAt: string;
  renewToken: string;
  /** The operator's other users, listed as contacts. */
  directory: string[];
}

/**
 * What proves to the gateway that a person (not a guest) is signed in, for creating a call link
 * (CALL_LINKS=signed-in): the sign-in's renewal token, or the SIP credentials typed in.
 */
let linkAuthorization: string | undefined;

/** Whether the gateway will take this page's POST /api/sessions (CALL_LINKS, sessions-api.ts). */
function mayCreateLink(): boolean {
  return callLinks === 'anyone' || (callLinks === 'signed-in' && linkAuthorization !== undefined);
}

/** Words for a refused sign-in; never which of user or password was wrong. */
function signInRefusal(status: number): string {
  if (status === 401) return 'Wrong user name or password.';
  if (status === 429) return 'Too many attempts: wait a minute, then try again.';
  return `Sign-in failed (${status}); try again.`;
}

/** Password sign-in: the gateway checks the password and hands out credentials that expire; renewed before they do. */
async function signInWithPassword(user: string, password: string, servers: string[]): Promise<void> {
  setText('sign-in-error', '');
  const response = await fetch('/api/sign-in', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user: user.trim(), password }),
  }).catch(() => undefined);
  if (!response?.ok) {
    setText('sign-in-error', response ? signInRefusal(response.status) : 'The gateway cannot be reached.');
    return;
  }
  const granted = (await response.json()) as SignInReply;
  linkAuthorization = `Bearer ${granted.renewToken}`;
  // Listed at once; watched once the phone has registered (runPhone's registration listener).
  contacts?.setDirectory(granted.directory);
  own = phoneFor(granted.credentials, servers);
  await runPhone(own);
  scheduleRenewal(granted);
}

function scheduleRenewal(
  granted: SignInReply,
  delayMs = Date.parse(granted.renewAt) - Date.now(),
  failures = 0,
): void {
  setTimeout(() => void renew(granted, failures), Math.max(0, delayMs));
}

/**
 * Renews the sign-in's credentials. Only a 401 ends the sign-in (renewalEndsSignIn): a 429, a 503
 * while the gateway restarts or no answer at all is tried again with backoff, and the calls go on.
 */
async function renew(previous: SignInReply, failures = 0): Promise<void> {
  const response = await fetch('/api/sign-in/renew', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ renewToken: previous.renewToken }),
  }).catch(() => undefined);
  if (!response?.ok && !renewalEndsSignIn(response?.status)) {
    const delay = backoffDelay(failures, RENEWAL_BACKOFF);
    console.warn(
      `[ringway] sign-in renewal failed (${response ? response.status : 'no answer'}); trying again in ${delay} ms`,
    );
    return scheduleRenewal(previous, delay, failures + 1);
  }
  if (!response?.ok) {
    // The sign-in is over (too old, or the user was removed): say so, and ask again.
    const ended = own;
    own = undefined;
    linkAuthorization = undefined;
    await ended?.stop();
    setText('sign-in-error', 'Your sign-in has ended: sign in again.');
    show('sign-in', true);
    return;
  }
  const granted = (await response.json()) as SignInReply;
  linkAuthorization = `Bearer ${granted.renewToken}`;
  // The person's phone, even while a call link's identity is on screen: it comes back after.
  own?.updateCredentials(granted.credentials);
  document.body.dataset.credentialsRenewedAt = new Date().toISOString();
  scheduleRenewal(granted);
}

interface SessionReply {
  id: string;
  state: string;
  reason: string;
  joinUrl?: string;
  peer?: string;
  credentials: SessionCredentials;
}

async function startPhone(
  settings: GatewaySettings,
  user: string,
  password: string | undefined,
  authorizationUser?: string,
): Promise<void> {
  const identity = signInIdentity(user, authorizationUser, password, settings.sipDomain);
  if (password) linkAuthorization = `Basic ${btoa(`${identity.authorizationUsername}:${password}`)}`;
  own = new Phone({
    server: ownServers(settings),
    aor: identity.aor,
    iceServers: settings.iceServers,
    authorizationUsername: identity.authorizationUsername,
    authorizationPassword: password || undefined,
  });
  await runPhone(own);
}

/** Shows a session's state as it moves (Server-Sent Events from the gateway); `onOver` once it is over. */
function followSession(id: string, onOver: () => void = () => {}): void {
  show('session', true);
  const events = new EventSource(`/api/sessions/${id}/events`);
  events.addEventListener('state', (event) => {
    const { state, reason } = JSON.parse((event as MessageEvent<string>).data) as {
      state: string;
      reason: string;
    };
    setText('session-state', state);
    setText('session-reason', reason);
    if (['ended', 'expired', 'failed'].includes(state)) {
      events.close();
      onOver();
    }
  });
}

/**
 * Creator: a session, its link to share, and a phone on the session's identity that answers the
 * peer by itself.
 *
 * A person signed in gets no link to their own address: the joiner's guest credentials may call
 * only the link's other identity, `rw-<id>-a` (the gateway's guest-scope.ts refuses an INVITE to
 * anyone else), and the session's states (connected, ended) follow those two identities. So for
 * the link's call this page's phone becomes that identity, as for someone without an account; the
 * person's own phone is unregistered meanwhile (a call to them then fails at once rather than
 * ringing where nobody sees it, and one phone at a time owns the microphone and the screen), and
 * registers again once the session is over.
 */
async function startSessionAsCreator(): Promise<void> {
  const response = await fetch('/api/sessions', {
    method: 'POST',
    headers: linkAuthorization ? { authorization: linkAuthorization } : {},
  });
  if (!response.ok) {
    const why = response.status === 401 ? 'sign in first' : `${response.status}`;
    setText('registration-reason', `could not start a call link (${why})`);
    return;
  }
  const session = (await response.json()) as SessionReply;
  show('session-share', true);
  $<HTMLInputElement>('join-url').value = session.joinUrl ?? '';
  const person = phone !== undefined && phone === own ? own : undefined;
  const link = phoneFor(session.credentials);
  followSession(session.id, () => {
    if (person) void backToOwnPhone(person, link);
  });
  // The link's phone is on screen from here, so the person's stopping shows nothing.
  const started = runPhone(link, (call) => {
    if (call.direction === 'incoming') answer(call);
  });
  await person?.stop();
  await started;
}

/** The call link is over: its identity goes, and the person's own phone registers again. */
async function backToOwnPhone(person: Phone, link: Phone): Promise<void> {
  if (phone !== link) return;
  show('session-share', false);
  // Signed out meanwhile (the sign-in ended): the sign-in form, not a phone without credentials.
  if (own !== person) {
    await link.stop();
    return;
  }
  phone = person;
  setText('identity', person.options.aor);
  const registered = person
    .start()
    .catch((error: Error) => console.warn('[ringway] registration failed', error.message));
  renderRegistration(person.registrationState);
  renderLines();
  await Promise.all([link.stop(), registered]);
}

/**
 * Answers a call. A failure (the offer cannot be used, no microphone) is the call's end reason,
 * which the page shows; it must not also escape as an unhandled rejection.
 */
function answer(call: Call): void {
  call
    .answer()
    .catch((error: Error) => console.warn(`[ringway] ${call.id} could not answer: ${error.message}`));
}

/** Joiner: the link's code joins the session; the joiner calls the creator. */
async function joinSession(code: string): Promise<void> {
  const response = await fetch(`/api/sessions/${encodeURIComponent(code)}/join`, { method: 'POST' });
  if (!response.ok) {
    show('session', true);
    const { error } = (await response.json()) as { error: string };
    setText('session-state', `cannot join (${response.status})`);
    setText('session-reason', error);
    return;
  }
  const session = (await response.json()) as SessionReply;
  followSession(session.id);
  await runPhone(phoneFor(session.credentials));
  if (session.peer) phone?.dial(session.peer);
}

/** A phone on handed-out credentials; on `servers` in their order, by default only the one of the credentials. */
function phoneFor(credentials: SessionCredentials, servers: string[] = [credentials.wsServer]): Phone {
  return new Phone({
    server: servers,
    aor: credentials.uri,
    iceServers: credentials.iceServers,
    authorizationUsername: credentials.authorizationUsername,
    authorizationPassword: credentials.authorizationPassword,
  });
}

/**
 * Puts a phone on screen and starts it. Its events reach the screen only while it is the phone on
 * screen: the person's own phone waits, unregistered, while a call link's identity has it.
 */
async function runPhone(created: Phone, onCall: (call: Call) => void = () => {}): Promise<void> {
  phone = created;
  setText('identity', created.options.aor);
  const onScreen = () => phone === created;
  created.registrationChange.addListener((state) => {
    if (onScreen()) renderRegistration(state);
  });
  created.callAdded.addListener((call) => {
    follow(call);
    onCall(call);
    if (call.direction === 'outgoing') select(call);
    renderLines();
  });
  created.incomingCall.addListener((call) => {
    if (!onScreen() || call.state !== CallState.Ringing) return;
    setText('incoming-from', call.remote);
    show('incoming', true);
    ring.start();
    if (!current || isFinal(current.state)) select(call);
    renderScreen();
    ($('answer-button') as HTMLButtonElement).focus();
    incomingNotification.show(call.remote, () => ($('answer-button') as HTMLButtonElement).focus());
  });
  created.voicemailChange.addListener((summary) => {
    if (onScreen()) renderVoicemail(summary);
  });
  created.presenceChange.addListener(({ contact, presence, canPickUp }) => {
    if (onScreen()) contacts?.setPresence(contact, presence, canPickUp);
  });
  created.registrationChange.addListener((state) => {
    if (onScreen() && state === RegistrationState.Registered) contacts?.watchAll();
  });
  created.message.addListener((message) => {
    // Our own are on the log from the moment they are sent, with their delivery (sendChat).
    if (!onScreen() || message.direction === 'out') return;
    const item = document.createElement('li');
    item.textContent = `${message.from}: ${message.text}`;
    $('chat-log').append(item);
  });
  renderRegistration(created.registrationState);
  renderVoicemail(created.voicemail);
  // Listed at once, not after the first connection (which may take long, or never come); again
  // once registered, when the warm microphone's permission gives the devices their names.
  void listDevices();
  await created.start().catch((error: Error) => console.warn('[ringway] registration failed', error.message));
  await listDevices();
}

/** Sends a chat message; its line in the log says sending, then delivered or failed (with the reason). */
function sendChat(from: Phone, to: string, input: HTMLInputElement): void {
  const text = input.value;
  const item = document.createElement('li');
  item.dataset.testid = 'chat-sent';
  const delivery = document.createElement('span');
  delivery.dataset.testid = 'chat-delivery';
  const mark = (outcome: Parameters<typeof deliveryText>[0]) => {
    const words = deliveryText(outcome);
    delivery.textContent = words;
    item.dataset.delivery = words.split(' ')[0];
  };
  mark('sending');
  item.append(`→ ${to}: ${text} — `, delivery);
  $('chat-log').append(item);
  from.sendMessage(to, text).then(
    () => {
      mark('delivered');
      if (input.value === text) input.value = '';
    },
    (error: unknown) => mark({ failed: error }),
  );
}

async function listDevices(): Promise<void> {
  const devices = await navigator.mediaDevices.enumerateDevices();
  const options = (kind: MediaDeviceKind, name: string) =>
    devices
      .filter((d) => d.kind === kind)
      .map((d, i) => new Option(d.label || `${name} ${i + 1}`, d.deviceId));
  const input = $<HTMLSelectElement>('input-device');
  input.replaceChildren(...options('audioinput', 'microphone'));
  input.onchange = () => void attempt('microphone', () => phone?.useMicrophone(input.value));
  const select = $<HTMLSelectElement>('output-device');
  select.replaceChildren(...options('audiooutput', 'speaker'));
  select.onchange = () => {
    const audio = $<HTMLAudioElement>('remote-audio') as HTMLAudioElement & {
      setSinkId?: (id: string) => Promise<void>;
    };
    void attempt('speaker', () => audio.setSinkId?.(select.value));
  };
}

function keypad(containerId: string, onKey: (key: string) => void, testPrefix: string): void {
  $(containerId).append(
    ...KEYS.map((key) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = key;
      button.dataset.testid = `${testPrefix}-${key === '*' ? 'star' : key === '#' ? 'hash' : key}`;
      button.setAttribute('aria-label', `${testPrefix === 'dtmf' ? 'Send DTMF' : 'Dial'} ${key}`);
      button.addEventListener('click', () => onKey(key));
      return button;
    }),
  );
}

/** Keyboard use of the page's main functions (keyboard-shortcuts.ts), listed on the page. */
function wireShortcuts(): void {
  $('shortcut-list').replaceChildren(
    ...SHORTCUTS.map(({ key, does }) => {
      const item = document.createElement('li');
      const kbd = document.createElement('kbd');
      kbd.textContent = key;
      item.append(kbd, ` ${does}`);
      return item;
    }),
  );
  document.addEventListener('keydown', (event) => {
    const target = event.target as HTMLElement | null;
    const inTextField =
      target?.matches('input:not([type=checkbox]):not([type=radio]), textarea, select') ?? false;
    const shortcut = shortcutFor(event, inTextField);
    const control = shortcut && document.getElementById(shortcut.control);
    // Only what can be seen and used now: a hidden Answer button answers nothing.
    if (
      !shortcut ||
      !control ||
      control.closest('[hidden]') ||
      !control.checkVisibility() ||
      (control as HTMLButtonElement).disabled
    )
      return;
    event.preventDefault();
    if (shortcut.focus) control.focus();
    else control.click();
  });
}

function wire(): void {
  wireShortcuts();
  keypad(
    'keypad',
    (key) => {
      const input = $<HTMLInputElement>('dial-input');
      input.value += key;
      input.focus();
    },
    'key',
  );
  keypad(
    'dtmf-keypad',
    (key) => {
      const method = $<HTMLInputElement>('dtmf-info').checked ? 'info' : 'rfc4733';
      void attempt('dtmf', () => current?.sendDtmf(key, method));
    },
    'dtmf',
  );
  $('dial-form').addEventListener('submit', (event) => {
    event.preventDefault();
    dialFromUi($<HTMLInputElement>('dial-input').value.trim());
  });
  $('voicemail-button').addEventListener('click', () => {
    const account = phone?.voicemail?.account;
    if (account) dialFromUi(account);
  });
  $('add-call-button').addEventListener('click', () => {
    document.body.dataset.adding = 'true';
    $<HTMLInputElement>('dial-input').focus();
  });
  contacts = new ContactList($('contact-list'), {
    call: (address) => dialFromUi(address),
    pickUp: (address) => pickUpFromUi(address),
    watch: (address) => phone?.watch(address),
    unwatch: (address) => phone?.unwatch(address),
  });
  contacts.render();
  $('contact-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const name = $<HTMLInputElement>('contact-name');
    const address = $<HTMLInputElement>('contact-address');
    if (contacts?.add(name.value.trim(), address.value.trim()) === false) {
      address.setCustomValidity('The contact list is full: remove one first.');
      address.reportValidity();
      return;
    }
    name.value = '';
    address.value = '';
  });
  $('notify-button').addEventListener('click', async () => {
    const permission = await incomingNotification.ask();
    setText(
      'notify-state',
      permission === 'granted'
        ? 'A notification will show incoming calls while this tab is hidden.'
        : permission === 'unsupported'
          ? 'This browser has no notifications.'
          : 'Notifications are blocked for this page (the browser’s site settings can allow them).',
    );
  });
  // A device plugged in or out: the lists follow.
  navigator.mediaDevices?.addEventListener('devicechange', () => void listDevices());
  setInterval(renderTimer, 1000);
  $('answer-button').addEventListener('click', async () => {
    const call = phone?.calls.find((c) => c.direction === 'incoming' && c.state === CallState.Ringing);
    if (!call) return;
    ring.stop();
    show('incoming', false);
    // A second line: the call in progress goes on hold before the new one is answered.
    const other = phone?.calls.find((c) => c !== call && c.state === CallState.Active);
    await attempt('answer', async () => {
      if (other) await other.hold();
      select(call);
      answer(call);
    });
    renderCall();
  });
  $('decline-button').addEventListener('click', () => {
    const call = phone?.calls.find((c) => c.direction === 'incoming' && c.state === CallState.Ringing);
    ring.stop();
    show('incoming', false);
    void attempt('decline', () => call?.decline(603));
  });
  $('hangup-button').addEventListener('click', () => void attempt('hangup', () => current?.hangup()));
  $('hold-button').addEventListener('click', () => {
    const call = current;
    if (!call) return;
    const held = call.state === CallState.Held;
    // The button shows the call as it is after the answer, refused or not: a refused hold can be tried again.
    void attempt(held ? 'resume' : 'hold', () => (held ? call.resume() : call.hold())).then(renderCall);
  });
  $('mute-button').addEventListener('click', () => {
    current?.mute(!current.muted);
    renderCall();
  });
  $('transfer-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const target = $<HTMLInputElement>('transfer-input').value.trim();
    const call = current;
    if (target && call) void attempt('transfer', () => call.transfer(target));
  });
  $('attended-button').addEventListener('click', () => {
    const other = phone?.calls.find((c) => c !== current && !isFinal(c.state));
    const consultation = current;
    if (consultation && other) void attempt('transfer', () => other.transferTo(consultation));
  });
  $('chat-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const to = $<HTMLInputElement>('chat-to').value.trim();
    const text = $<HTMLInputElement>('chat-text');
    if (to && text.value && phone) sendChat(phone, to, text);
  });
  renderHistory();
}

/**
 * A page opened over plain HTTP from another machine gets no microphone (browsers allow it only in
 * a secure context), and every call would fail later without saying why: say it now instead.
 */
function refuseInsecureContext(): boolean {
  if (window.isSecureContext) return false;
  const secure = new URL(location.href);
  secure.protocol = 'https:';
  setText('insecure-url', location.origin);
  const link = $<HTMLAnchorElement>('secure-url');
  link.href = secure.href;
  link.textContent = secure.origin;
  show('insecure-context', true);
  show('sign-in', false);
  return true;
}

async function main(): Promise<void> {
  if (refuseInsecureContext()) return;
  wire();
  resumeAudioOnGesture();
  const settings = (await (await fetch('/api/config')).json()) as GatewaySettings;
  ({ callLinks } = settings);
  // Not signed in, the gateway takes a link only with CALL_LINKS=anyone; signed in, the idle
  // screen offers one (renderScreen).
  show('guest-link', callLinks === 'anyone');
  const params = new URLSearchParams(location.search);
  const user = params.get('user');
  // With password sign-in the gateway hands out the SIP credentials: no authorization user to type.
  show('authorization-user-label', !settings.signIn);
  $('sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    if (settings.signIn)
      return void signInWithPassword(
        String(form.get('user')),
        String(form.get('password') ?? ''),
        ownServers(settings),
      );
    void startPhone(
      settings,
      String(form.get('user')),
      String(form.get('password') ?? ''),
      String(form.get('authorization-user') ?? ''),
    );
  });
  $('start-link-button').addEventListener('click', () => void startSessionAsCreator());
  $('own-link-button').addEventListener('click', () => void startSessionAsCreator());
  $('copy-link-button').addEventListener(
    'click',
    () => void navigator.clipboard?.writeText($<HTMLInputElement>('join-url').value),
  );
  // A sip:/tel: link opened here (?dial=): the number waits in the dial field for one press of
  // Dial — a link on another page must not place a call by itself.
  const linked = dialLinkTarget(params.get('dial') ?? '');
  if (linked) {
    $<HTMLInputElement>('dial-input').value = linked;
    setText('dial-help', `From a link: press Dial to call ${linked}.`);
  }
  $('link-handler-button').addEventListener('click', () => {
    try {
      for (const scheme of ['sip', 'tel'])
        navigator.registerProtocolHandler(scheme, linkHandlerUrl(location));
      setText(
        'link-handler-state',
        'Your browser will ask, the first time, whether to open sip: and tel: links here.',
      );
    } catch (error) {
      setText('link-handler-state', `This browser would not: ${(error as Error).message}`);
    }
  });
  const join = params.get('join');
  if (join) await joinSession(join);
  // ?user=alice registers at once in loopback development mode (no credentials needed there).
  else if (user && (settings.anonymous || params.get('password')))
    await startPhone(settings, user, params.get('password') ?? undefined);
  // A new network (Wi-Fi to cable, waking up): reconnect now, and live calls restart their media.
  window.addEventListener('online', () => phone?.networkChanged());
  (navigator as Navigator & { connection?: EventTarget }).connection?.addEventListener('change', () =>
    phone?.networkChanged(),
  );
  (window as unknown as { ringway: unknown }).ringway = {
    phone: () => phone,
    current: () => current,
    ringSinkId: () => ring.sinkId,
  };
}

void main();
