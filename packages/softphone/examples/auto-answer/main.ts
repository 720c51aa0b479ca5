// The smallest useful embedding of @ringway/softphone: register with the gateway that serves this
// page, answer every call, play the far end. `?user=carol` names the phone. See the package README.
import { Phone } from '../../src/index.js';

const settings = await (await fetch('/api/config')).json();
const user = new URLSearchParams(location.search).get('user') ?? 'example';
const phone = new Phone({
  server: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${settings.wsPath}`,
  aor: `sip:${user}@${settings.sipDomain}`,
  iceServers: settings.iceServers,
});
const show = (id: string, text: string) => ((document.getElementById(id) as HTMLElement).textContent = text);
const farEnd = Object.assign(new Audio(), { autoplay: true });
phone.registrationChange.addListener((state) => show('registration', state));
phone.incomingCall.addListener(async (call) => {
  call.stateChange.addListener((state) => show('call', state));
  await call.answer();
  farEnd.srcObject = call.remoteStream ?? null;
});
await phone.start();
(globalThis as unknown as { example: unknown }).example = { phone };
