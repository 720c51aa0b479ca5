import { issueEphemeralCredential } from '../../packages/gateway/src/sip/auth/credentials.js';
import { type RunningGateway, startUpstreamGateway } from '../../packages/gateway/test/support/gateway.js';
import { type RunningKamailio, startKamailio } from './kamailio.js';
import { type RunningRtpengine, startRtpengine } from './rtpengine.js';

export interface MediaStack {
  rtpengine: RunningRtpengine;
  kamailio: RunningKamailio;
  /** The gateway in upstream mode in front of Kamailio, sharing its secret as compose runs it. */
  gateway: RunningGateway;
  /** An ephemeral credential of `user` on this stack's secret, as the pages and phones take it. */
  credential(user: string): { username: string; password: string };
  stop(): Promise<void>;
}

/**
 * The bundled stack as the tests toward plain SIP phones use it: rtpengine (userspace), Kamailio
 * (`kamailio-config/kamailio.cfg` with rtpengine, and the PBX route when `pbx` names one) and the
 * gateway in upstream mode, all on loopback, domain `ringway.test`.
 */
export async function startMediaStack(secret: string, options: { pbx?: string } = {}): Promise<MediaStack> {
  const rtpengine = await startRtpengine();
  const kamailio = await startKamailio({
    secret,
    sipDomain: 'ringway.test',
    rtpengine: rtpengine.socket,
    ...(options.pbx ? { pbx: options.pbx } : {}),
  });
  const gateway = await startUpstreamGateway(kamailio.udp, { AUTH_SECRET: secret });
  return {
    rtpengine,
    kamailio,
    gateway,
    credential(user) {
      const issued = issueEphemeralCredential(secret, user, 600);
      return { username: issued.username, password: issued.password };
    },
    async stop() {
      await gateway.close();
      await kamailio.stop();
      await rtpengine.stop();
    },
  };
}
