import { sessionOfUser } from './rendezvous-session.js';

/**
 * What a call-link guest may do: the one rule, for the embedded proxy, the notifier and the
 * upstream relay alike (the bundled Kamailio has its twin in route[GUESTS]).
 *
 * A session identity (`rw-<id>-a`, `rw-<id>-b`, rendezvous-session.ts) exists for one call: the
 * two parties of its session. A guest may register itself and INVITE the other party of its own
 * session; in-dialog requests of that call pass on their dialog token. Every other initial
 * request a guest sends (MESSAGE, SUBSCRIBE, an INVITE to anyone else or to a PBX number), and
 * every initial request anyone else sends to a guest, is refused: a link hands out a call, not an
 * account.
 *
 * `sender` is the proven user of the request, `target` the user it is for (the Request-URI's, or
 * the owner of the contact it names); REGISTER, CANCEL and ACK are not initial requests here.
 * Returns why the request is refused, or undefined when it may go on.
 */
export function guestRefusal(
  method: string,
  sender: string | undefined,
  target: string | undefined,
): string | undefined {
  const senderSession = sessionOfUser(sender);
  const targetSession = sessionOfUser(target);
  if (senderSession === undefined && targetSession === undefined) return undefined;
  if (
    method === 'INVITE' &&
    senderSession !== undefined &&
    senderSession === targetSession &&
    sender !== target
  )
    return undefined;
  return senderSession !== undefined
    ? 'a call-link guest may only call the other party of its own link'
    : 'a call-link guest takes calls only from the other party of its own link';
}
