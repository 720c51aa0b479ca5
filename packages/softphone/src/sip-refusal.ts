import type { Core } from 'sip.js';

type IncomingResponse = Core.IncomingResponse;
type OutgoingRequestDelegate = Core.OutgoingRequestDelegate;

/** The other side answered a request of ours with a failure: its status and reason phrase. */
export class SipRefusal extends Error {
  override name = 'SipRefusal';
  constructor(
    /** The request refused, e.g. `re-INVITE`, `MESSAGE`. */
    readonly request: string,
    readonly status: number,
    readonly reasonPhrase: string,
  ) {
    super(`${request} refused: ${status} ${reasonPhrase}`.trim());
  }
}

/**
 * The final answer to a request SIP.js sends: resolves on 2xx, rejects with SipRefusal on a
 * failure. SIP.js's own promises (`Messager.message()`, `Session.info()`, `refer()`) resolve as
 * soon as the request is sent, whatever the answer, which is how a MESSAGE answered 404 looked
 * delivered.
 */
export function requestOutcome(
  request: string,
  send: (delegate: OutgoingRequestDelegate) => Promise<unknown>,
): Promise<IncomingResponse> {
  return new Promise((resolve, reject) => {
    const refused = (response: IncomingResponse) => {
      const { statusCode, reasonPhrase } = response.message;
      reject(new SipRefusal(request, statusCode ?? 0, reasonPhrase ?? ''));
    };
    send({ onAccept: resolve, onReject: refused, onRedirect: refused }).catch(reject);
  });
}
