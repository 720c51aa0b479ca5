/** Every `a=setup:` line of an SDP (RFC 4145 §4): the DTLS role each side asks for (RFC 5763 §5). */
const SETUP_LINE = /^a=setup:(\S+)\r?$/gm;

const setupValues = (sdp: string) => [...sdp.matchAll(SETUP_LINE)].map((match) => match[1]);

/**
 * An answer that takes the DTLS server's role (`a=setup:passive`) where the browser wrote the
 * client's (`active`), when the offer left the choice to us (`actpass` throughout) and this is the
 * first answer, or one after an answer that was passive already (`previous`: a DTLS role never
 * changes in a session; Chromium refuses a description that would change it).
 *
 * Why: an answerer that is the DTLS client sends its ClientHello as soon as its connectivity
 * checks succeed, which is before the offerer has the answer (it travels back through the SIP
 * proxy). RFC 5763 §5 asks the offerer to be ready for that, and Chromium keeps such a hello; but
 * Firefox ESR as the offerer, with the answer 50 ms behind, never completed the handshake in 1 of
 * 10 calls, and completed it 93 ms after the answer (median) in the rest. As the server the
 * answerer waits for the offerer's hello, which comes once the offerer has the answer: 10 of 10,
 * 27 ms (docs/softphone.md). RFC 5763 lets the answerer take either role.
 */
export function answerAsDtlsServer(answer: string, offer: string, previous?: string): string {
  const offered = setupValues(offer);
  if (offered.length === 0 || offered.some((value) => value !== 'actpass')) return answer;
  if (previous !== undefined && setupValues(previous).some((value) => value !== 'passive')) return answer;
  return answer.replace(/^a=setup:active(?=\r?$)/gm, 'a=setup:passive');
}
