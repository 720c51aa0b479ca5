// What bench/first-call.mjs puts into every page before the page's own scripts run
// (context.addInitScript): marks of the moments of a first call on the page's clock (the press
// on Dial is pointerdown: the click event comes at the button's release, after the page's own
// pointerdown work),
// `performance.timeOrigin + performance.now()` (ms since the epoch, sub-ms). Chromium takes both
// from one system-wide monotonic clock plus one wall-clock offset per renderer process, so marks
// of two pages of one browser compare directly; the benchmark checks the offset between them
// anyway (clockOffsetMs). Nothing is recorded until the benchmark arms the page (registration's
// own getUserMedia, peer connection warm-up and SIP traffic stay out), and only the first of each
// mark counts. The probe wraps the browser's own objects, not the phone's code: the page under
// test is the one people load.
export function firstCallProbe() {
  const now = () => performance.timeOrigin + performance.now();
  const probe = {
    armed: false,
    role: undefined,
    marks: {},
    beforeRinging: { getUserMedia: 0, peerConnections: 0 },
  };
  globalThis.__firstCall = probe;
  const mark = (name) => {
    if (probe.armed && probe.marks[name] === undefined) probe.marks[name] = now();
  };
  const ringingShown = () => probe.marks.ringingShown !== undefined;

  // SIP over the WebSocket: the INVITE transaction only (CSeq method INVITE).
  const isInvite = (text) => /^CSeq:\s*\d+\s+INVITE\s*$/im.test(text);
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    if (typeof data === 'string' && isInvite(data)) {
      if (data.startsWith('INVITE ')) mark('inviteSent');
      else if (data.startsWith('SIP/2.0 100')) mark('tryingSent');
      else if (/^SIP\/2\.0 18\d/.test(data)) mark('ringingSent');
    }
    return send.call(this, data);
  };
  const addEventListener = WebSocket.prototype.addEventListener;
  WebSocket.prototype.addEventListener = function (type, listener, options) {
    if (type !== 'message' || typeof listener !== 'function')
      return addEventListener.call(this, type, listener, options);
    const wrapped = function (event) {
      const data = event.data;
      if (typeof data === 'string' && isInvite(data)) {
        if (data.startsWith('INVITE ')) mark('inviteReceived');
        else if (data.startsWith('SIP/2.0 100')) mark('tryingReceived');
        else if (/^SIP\/2\.0 18\d/.test(data)) mark('ringingReceived');
      }
      return listener.call(this, event);
    };
    return addEventListener.call(this, type, wrapped, options);
  };

  // Media work: when it starts and ends, and how much of it the callee does before it rings.
  const devices = navigator.mediaDevices;
  if (devices) {
    const getUserMedia = devices.getUserMedia.bind(devices);
    devices.getUserMedia = async (constraints) => {
      if (probe.armed && !ringingShown()) probe.beforeRinging.getUserMedia++;
      mark('getUserMediaStart');
      const stream = await getUserMedia(constraints);
      mark('getUserMediaEnd');
      return stream;
    };
  }
  const Native = globalThis.RTCPeerConnection;
  if (Native) {
    globalThis.RTCPeerConnection = class extends Native {
      constructor(...args) {
        super(...args);
        if (!probe.armed) return;
        if (!ringingShown()) probe.beforeRinging.peerConnections++;
        mark('peerConnection');
        this.addEventListener('icecandidate', (event) => {
          if (!event.candidate) return mark('gatheringComplete');
          mark(`${event.candidate.type}Candidate`);
        });
      }
      addTrack(...args) {
        mark('addTrack');
        return super.addTrack(...args);
      }
      async createOffer(...args) {
        mark('createOffer');
        return super.createOffer(...args);
      }
      async setLocalDescription(...args) {
        mark('setLocalDescription');
        const done = await super.setLocalDescription(...args);
        mark('localDescriptionSet');
        return done;
      }
    };
  }

  // The caller's click on Dial, and the callee's page showing the call: the answer button
  // visible in the DOM (a mutation observer, so at the end of the task that showed it), then
  // the next animation frame, the frame that draws it.
  for (const [type, name] of [
    ['pointerdown', 'press'],
    ['click', 'click'],
  ]) {
    globalThis.addEventListener(
      type,
      (event) => {
        if (event.target?.closest?.('[data-testid="dial-button"]')) mark(name);
      },
      { capture: true },
    );
  }
  // Only on the callee's page (armed as such): checkVisibility() computes style and layout, which
  // the callee's next frame needs anyway, but which would cost the caller's page 2–3 ms a check
  // in the middle of its dial (measured with a CPU profile).
  const watch = () => {
    if (probe.role !== 'callee' || ringingShown()) return;
    const button = document.querySelector('[data-testid="answer-button"]');
    if (!button?.checkVisibility()) return;
    mark('ringingShown');
    requestAnimationFrame(() => mark('ringingFrame'));
  };
  const observe = () =>
    new MutationObserver(watch).observe(document.documentElement, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ['hidden', 'class', 'style'],
    });
  if (document.documentElement) observe();
  else document.addEventListener('DOMContentLoaded', observe);
}
