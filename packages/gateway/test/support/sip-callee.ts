import type { SipHeaderField, SipMessage, SipRequest } from '../../src/sip/message.js';
import { createResponse } from '../../src/sip/responses.js';
import { serializeSipMessage } from '../../src/sip/serializer.js';
import { type RawSipClient, sipRequest } from './raw-sip-client.js';

/** Matches a request of `method`, for `RawSipClient.next`. */
export function isRequest(method: string): (m: SipMessage) => boolean {
  return (m) => m.kind === 'request' && m.method === method;
}

/**
 * Answers a request `client` received, as a user agent would (RFC 3261 §8.2.6): `toTag` for the
 * dialog it answers in (one is made up for a final answer without it), `extra` header lines.
 */
export function answer(
  client: RawSipClient,
  request: SipRequest,
  status: number,
  options: { toTag?: string; extra?: string[] } = {},
): void {
  const extra: SipHeaderField[] = (options.extra ?? []).map((line) => {
    const colon = line.indexOf(':');
    return { name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() };
  });
  client.send(serializeSipMessage(createResponse(request, status, extra, undefined, options.toTag)));
}

/**
 * Registers `client` as `user` at `<sip:user@user.invalid;transport=ws>` on a gateway in
 * anonymous mode (no challenge), so that calls to `sip:user@ringway.test` reach it.
 */
export async function registerAs(client: RawSipClient, user: string): Promise<RawSipClient> {
  const callId = `reg-${user}-${Math.random().toString(36).slice(2)}`;
  client.send(
    sipRequest('REGISTER', 'sip:ringway.test', {
      from: `sip:${user}@ringway.test`,
      to: `sip:${user}@ringway.test`,
      callId,
      extra: [`Contact: <sip:${user}@${user}.invalid;transport=ws>`],
    }),
  );
  await client.next((m) => m.kind === 'response' && m.status === 200);
  return client;
}
