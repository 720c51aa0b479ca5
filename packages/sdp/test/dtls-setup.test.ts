import { describe, expect, it } from '@jest/globals';
import { answerAsDtlsServer } from '../src/index.js';

const sdp = (...setups: string[]) =>
  ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0']
    .concat(
      setups.flatMap((setup, i) => [`m=audio ${9 + i} UDP/TLS/RTP/SAVPF 111`, `a=setup:${setup}`, 'a=mid:0']),
    )
    .join('\r\n')
    .concat('\r\n');

describe('answerAsDtlsServer', () => {
  it('makes the first answer to an actpass offer passive, every section, nothing else changed', () => {
    const answer = sdp('active', 'active');
    expect(answerAsDtlsServer(answer, sdp('actpass', 'actpass'))).toBe(sdp('passive', 'passive'));
  });

  it('reads bare LF line ends as the browser may write them', () => {
    const answer = sdp('active').replace(/\r\n/g, '\n');
    expect(answerAsDtlsServer(answer, sdp('actpass'))).toBe(sdp('passive').replace(/\r\n/g, '\n'));
  });

  it('leaves the answer as it is when the offer chose a role, or has no setup line', () => {
    expect(answerAsDtlsServer(sdp('active'), sdp('passive'))).toBe(sdp('active'));
    expect(answerAsDtlsServer(sdp('passive'), sdp('active'))).toBe(sdp('passive'));
    expect(answerAsDtlsServer(sdp('active'), sdp('actpass', 'passive'))).toBe(sdp('active'));
    const plain = sdp('active').replace(/a=setup:\w+\r\n/, '');
    expect(answerAsDtlsServer(sdp('active'), plain)).toBe(sdp('active'));
  });

  it('keeps the role of the session: passive again after a passive answer, never a switch from active', () => {
    expect(answerAsDtlsServer(sdp('active'), sdp('actpass'), sdp('passive'))).toBe(sdp('passive'));
    expect(answerAsDtlsServer(sdp('active'), sdp('actpass'), sdp('active'))).toBe(sdp('active'));
    // Our own earlier offer (actpass) says nothing of the role the other side's answer gave us.
    expect(answerAsDtlsServer(sdp('active'), sdp('actpass'), sdp('actpass'))).toBe(sdp('active'));
  });
});
