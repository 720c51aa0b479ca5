import { issueEphemeralCredential } from '../../packages/gateway/src/sip/auth/credentials.js';
import {
  establishedCall,
  type Phone,
  reached,
  SessionState,
  sipjsPhone,
} from '../../packages/gateway/test/support/sipjs.js';

/** A SIP.js peer on `wsUrl` registered as `user` with an ephemeral credential from `secret` (what Kamailio's auth_ephemeral checks). */
export function ephemeralPhone(wsUrl: string, secret: string, user: string): Promise<Phone> {
  const credential = issueEphemeralCredential(secret, user, 300);
  return sipjsPhone(wsUrl, user, {
    authorizationUsername: credential.username,
    authorizationPassword: credential.password,
  });
}

/** `from` calls `user` (registered on `to`) in ringway.test; `to` hangs up once established. */
export async function callAndHangUp(from: Phone, to: Phone, user: string): Promise<void> {
  const { inviter, invitation } = await establishedCall(from, to, `sip:${user}@ringway.test`);
  await invitation.bye();
  await reached(inviter, SessionState.Terminated);
}
