// Runs in the test page: one softphone per page, on SIP.js or JsSIP, driven by the tests through
// page.evaluate(). Kept deliberately thin: the product's softphone lives in packages/softphone.
/* global SIP, JsSIP, RingwaySdp, RingwaySoftphone */
(() => {
  const state = { ua: undefined, session: undefined, incoming: [], library: undefined, failure: undefined };
  const audioOnly = { audio: true, video: false };

  const waitFor = (check, what, ms = 10000) =>
    new Promise((resolve, reject) => {
      const started = Date.now();
      const poll = () => {
        const value = check();
        if (value) resolve(value);
        else if (Date.now() - started > ms) reject(new Error(`timed out waiting for ${what}`));
        else setTimeout(poll, 20);
      };
      poll();
    });

  const sipjs = {
    async start(user, wsServer, domain, iceServers = [], credential = undefined) {
      const ua = new SIP.UserAgent({
        uri: SIP.UserAgent.makeURI(`sip:${user}@${domain}`),
        authorizationUsername: credential?.username,
        authorizationPassword: credential?.password,
        transportOptions: { server: wsServer },
        sessionDescriptionHandlerFactoryOptions: { peerConnectionConfiguration: { iceServers } },
        logLevel: 'error',
        delegate: { onInvite: (invitation) => state.incoming.push(invitation) },
      });
      await ua.start();
      const registerer = new SIP.Registerer(ua);
      const registered = new Promise((resolve) =>
        registerer.stateChange.addListener((s) => s === SIP.RegistererState.Registered && resolve()),
      );
      await registerer.register();
      await registered;
      state.ua = ua;
    },
    async dial(target, codecPolicy) {
      const modifiers = codecPolicy
        ? [RingwaySdp.codecPolicyModifier(RingwaySdp.resolvePolicy(codecPolicy))]
        : [];
      const inviter = new SIP.Inviter(state.ua, SIP.UserAgent.makeURI(target), {
        sessionDescriptionHandlerOptions: { constraints: audioOnly },
        sessionDescriptionHandlerModifiers: modifiers,
      });
      state.session = inviter;
      await inviter.invite({
        requestDelegate: {
          onReject: (response) => {
            const message = response.message;
            state.failure = { status: message.statusCode, warning: message.getHeader('Warning') };
          },
        },
      });
    },
    async answer() {
      const invitation = await waitFor(() => state.incoming.shift(), 'an incoming call');
      state.session = invitation;
      await invitation.accept({ sessionDescriptionHandlerOptions: { constraints: audioOnly } });
    },
    established: () => state.session?.state === SIP.SessionState.Established,
    peerConnection: () => state.session?.sessionDescriptionHandler?.peerConnection,
    hangup: () => (state.session.state === SIP.SessionState.Established ? state.session.bye() : undefined),
  };

  const jssip = {
    async start(user, wsServer, domain, _iceServers, credential) {
      const ua = new JsSIP.UA({
        sockets: [new JsSIP.WebSocketInterface(wsServer)],
        uri: `sip:${user}@${domain}`,
        authorization_user: credential?.username,
        password: credential?.password,
        session_timers: false,
      });
      ua.on('newRTCSession', (e) => e.originator === 'remote' && state.incoming.push(e.session));
      // With a listener JsSIP answers MESSAGE with 200, as SIP.js does (without one, 405).
      ua.on('newMessage', () => undefined);
      await new Promise((resolve, reject) => {
        ua.on('registered', resolve);
        ua.on('registrationFailed', (e) => reject(new Error(`registration failed: ${e.cause}`)));
        ua.start();
      });
      state.ua = ua;
    },
    async dial(target) {
      state.session = state.ua.call(target, { mediaConstraints: audioOnly, pcConfig: { iceServers: [] } });
    },
    async answer() {
      const session = await waitFor(() => state.incoming.shift(), 'an incoming call');
      state.session = session;
      session.answer({ mediaConstraints: audioOnly, pcConfig: { iceServers: [] } });
    },
    established: () => Boolean(state.session?.isEstablished()),
    peerConnection: () => state.session?.connection,
    hangup: () => state.session?.terminate(),
  };

  const ringway = {
    async start(user, wsServer, domain, iceServers = [], credential = undefined) {
      const phone = new RingwaySoftphone.Phone({
        server: wsServer,
        aor: `sip:${user}@${domain}`,
        iceServers,
        authorizationUsername: credential?.username,
        authorizationPassword: credential?.password,
      });
      phone.incomingCall.addListener((call) => state.incoming.push(call));
      await phone.start();
      state.ua = phone;
    },
    async dial(target, codecPolicy) {
      state.session = state.ua.dial(target, codecPolicy ? { codecPolicy } : {});
    },
    async answer() {
      state.session = await waitFor(() => state.incoming.shift(), 'an incoming call');
      await state.session.answer();
    },
    established: () => state.session?.state === RingwaySoftphone.CallState.Active,
    callState: () =>
      state.session?.endReason
        ? `${state.session.state}: ${state.session.endReason.text}`
        : state.session?.state,
    peerConnection: () => state.session?.session.sessionDescriptionHandler?.peerConnection,
    hangup: () => state.session?.hangup(),
    failure: () => {
      const reason = state.session?.endReason;
      return reason?.code ? { status: reason.code, warning: reason.warning } : undefined;
    },
    hold: () => state.session.hold(),
    resume: () => state.session.resume(),
    sendDtmf: (digit, method) => state.session.sendDtmf(digit, method),
  };

  window.phone = {
    async start(library, user, wsServer, domain, iceServers, credential) {
      state.library = { sipjs, jssip, ringway }[library];
      await state.library.start(user, wsServer, domain, iceServers, credential);
    },
    /** Dials; `codecPolicy` is applied to the offer with @ringway/sdp's modifier. */
    dial: (target, codecPolicy) => state.library.dial(target, codecPolicy),
    answer: () => state.library.answer(),
    established: () => state.library.established(),
    /** The call's state in Ringway's call state machine, with its end reason ('ringway' only). */
    callState: () => state.library.callState?.(),
    /** Whether ICE and DTLS are up (RTCPeerConnection.connectionState). */
    mediaConnected: () => state.library.peerConnection()?.connectionState === 'connected',
    hangup: () => state.library.hangup(),
    /** Holds, resumes, sends a DTMF digit ('rfc4733' or 'info'): 'ringway' only. */
    hold: () => state.library.hold(),
    resume: () => state.library.resume(),
    sendDtmf: (digit, method) => state.library.sendDtmf(digit, method),
    /** The SIP status and Warning of the last refused call, if any. */
    failure: () => state.library.failure?.() ?? state.failure,
    /** The audio codecs in use, from getStats() (`audio/PCMU`…), inbound and outbound. */
    async audioCodecs() {
      const pc = state.library.peerConnection();
      const stats = await pc.getStats();
      const codecOf = (id) => stats.get(id)?.mimeType;
      const used = { inbound: undefined, outbound: undefined };
      stats.forEach((report) => {
        if (report.kind !== 'audio' || !codecOf(report.codecId)) return;
        if (report.type === 'inbound-rtp') used.inbound = codecOf(report.codecId);
        if (report.type === 'outbound-rtp') used.outbound = codecOf(report.codecId);
      });
      return used;
    },
    /**
     * The level (0…1) of the audio being received now, from getStats() inbound-rtp: 0 is silence.
     * Chromium measures the level only of audio that is played out, so the call is played first.
     */
    async audioLevelReceived() {
      const pc = state.library.peerConnection();
      if (!pc) return 0;
      if (!state.speaker) {
        state.speaker = new Audio();
        state.speaker.srcObject = new MediaStream(pc.getReceivers().map((r) => r.track));
        await state.speaker.play();
      }
      let level = 0;
      (await pc.getStats()).forEach((report) => {
        if (report.type === 'inbound-rtp' && report.kind === 'audio')
          level = Math.max(level, report.audioLevel ?? 0);
      });
      return level;
    },
    /** Audio RTP bytes received so far, from getStats() inbound-rtp. */
    async audioBytesReceived() {
      const pc = state.library.peerConnection();
      if (!pc) return 0;
      let bytes = 0;
      (await pc.getStats()).forEach((report) => {
        if (report.type === 'inbound-rtp' && report.kind === 'audio') bytes += report.bytesReceived ?? 0;
      });
      return bytes;
    },
  };
})();
