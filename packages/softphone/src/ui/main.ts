// The page: wires each screen's module (one concern each) and starts the phone the address asks
// for. What the modules share is in page-state.ts; failures show in error-banner.ts.
import { wireCallControls } from './call-controls.js';
import { joinSession, wireCallLinks } from './call-links.js';
import { renderTimer } from './call-view.js';
import { wireChat } from './chat.js';
import { wireContacts } from './contacts-panel.js';
import { wireDevices } from './devices.js';
import { wireDialer, wireDialLinks } from './dialer.js';
import type { GatewaySettings } from './gateway-api.js';
import { renderHistory } from './history.js';
import { ringSinkId, wireIncoming } from './incoming.js';
import { refuseInsecureContext } from './insecure-context.js';
import { pageAudioContext, resumeAudioOnGesture } from './page-audio.js';
import { page } from './page-state.js';
import { wireShortcuts } from './shortcut-keys.js';
import { startPhone, wireSignIn } from './sign-in-form.js';

async function main(): Promise<void> {
  if (refuseInsecureContext()) return;
  wireShortcuts();
  wireDialer();
  wireCallControls();
  wireIncoming();
  wireContacts();
  wireDevices();
  wireChat();
  renderHistory();
  setInterval(renderTimer, 1000);
  resumeAudioOnGesture();
  // Made now, while the page waits for its settings, not on the first click (the Dial button's)
  // or the first ring: Chromium took 2–11 ms to make one, 80 ms for its first (2026-12-05). It starts
  // suspended and resumes at the person's first click or key press (page-audio.ts).
  pageAudioContext();
  const settings = (await (await fetch('/api/config')).json()) as GatewaySettings;
  page.callLinks = settings.callLinks;
  const params = new URLSearchParams(location.search);
  wireSignIn(settings);
  wireCallLinks(settings);
  wireDialLinks(params);
  const join = params.get('join');
  const user = params.get('user');
  if (join) await joinSession(join);
  // ?user=alice registers at once in loopback development mode (no credentials needed there).
  else if (user && (settings.anonymous || params.get('password')))
    await startPhone(settings, user, params.get('password') ?? undefined);
  // A new network (Wi-Fi to cable, waking up): reconnect now, and live calls restart their media.
  window.addEventListener('online', () => page.phone?.networkChanged());
  // Leaving for good (a page kept in the back-forward cache comes back, `persisted`): tell the gateway.
  window.addEventListener('pagehide', (event) => {
    if (!event.persisted) page.phone?.pageClosed();
  });
  (navigator as Navigator & { connection?: EventTarget }).connection?.addEventListener('change', () =>
    page.phone?.networkChanged(),
  );
  // For the page's tests and for people debugging in the console.
  (window as unknown as { ringway: unknown }).ringway = {
    phone: () => page.phone,
    current: () => page.current,
    ringSinkId,
  };
}

void main();
