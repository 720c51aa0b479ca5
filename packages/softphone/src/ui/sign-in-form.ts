import { backoffDelay, Phone, RENEWAL_BACKOFF, renewalEndsSignIn, signInIdentity } from '../index.js';
import { $, show } from './dom.js';
import { clearError, showError } from './error-banner.js';
import { type GatewaySettings, ownServers, type SignInReply } from './gateway-api.js';
import { page } from './page-state.js';
import { phoneFor, runPhone } from './phone-on-screen.js';

/** Words for a refused sign-in; never which of user or password was wrong. */
function signInRefusal(status: number): string {
  if (status === 401) return 'Wrong user name or password.';
  if (status === 429) return 'Too many attempts: wait a minute, then try again.';
  return `Sign-in failed (${status}); try again.`;
}

/** Password sign-in: the gateway checks the password and hands out credentials that expire; renewed before they do. */
async function signInWithPassword(user: string, password: string, servers: string[]): Promise<void> {
  clearError();
  const response = await fetch('/api/sign-in', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user: user.trim(), password }),
  }).catch(() => undefined);
  if (!response?.ok) {
    showError('sign-in', response ? signInRefusal(response.status) : 'The gateway cannot be reached.');
    return;
  }
  const granted = (await response.json()) as SignInReply;
  page.linkAuthorization = `Bearer ${granted.renewToken}`;
  // Listed at once; watched once the phone has registered (runPhone's registration listener).
  page.contacts?.setDirectory(granted.directory);
  page.own = phoneFor(granted.credentials, servers);
  await runPhone(page.own);
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
    const ended = page.own;
    page.own = undefined;
    page.linkAuthorization = undefined;
    await ended?.stop();
    showError('sign-in', 'Your sign-in has ended: sign in again.');
    show('sign-in', true);
    return;
  }
  const granted = (await response.json()) as SignInReply;
  page.linkAuthorization = `Bearer ${granted.renewToken}`;
  // The person's phone, even while a call link's identity is on screen: it comes back after.
  page.own?.updateCredentials(granted.credentials);
  document.body.dataset.credentialsRenewedAt = new Date().toISOString();
  scheduleRenewal(granted);
}

/** A phone on a user and password typed in (or given in the address), registering with them itself. */
export async function startPhone(
  settings: GatewaySettings,
  user: string,
  password: string | undefined,
  authorizationUser?: string,
): Promise<void> {
  const identity = signInIdentity(user, authorizationUser, password, settings.sipDomain);
  if (password) page.linkAuthorization = `Basic ${btoa(`${identity.authorizationUsername}:${password}`)}`;
  page.own = new Phone({
    server: ownServers(settings),
    aor: identity.aor,
    iceServers: settings.iceServers,
    authorizationUsername: identity.authorizationUsername,
    authorizationPassword: password || undefined,
  });
  await runPhone(page.own);
}

/** The sign-in form: a password sign-in where the gateway has accounts, else SIP credentials typed in. */
export function wireSignIn(settings: GatewaySettings): void {
  // With password sign-in the gateway hands out the SIP credentials: no authorization user to type.
  show('authorization-user-label', !settings.signIn);
  $('sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const user = String(form.get('user'));
    const password = String(form.get('password') ?? '');
    if (settings.signIn) return void signInWithPassword(user, password, ownServers(settings));
    void startPhone(settings, user, password, String(form.get('authorization-user') ?? ''));
  });
}
