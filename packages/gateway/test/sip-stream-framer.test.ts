import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { SipParseError } from '../src/sip/parse-error.js';
import { SipStreamFramer } from '../src/sip/upstream/sip-stream-framer.js';

const message = (body: string, lengthHeader = 'Content-Length') =>
  `OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n${lengthHeader}: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

describe('SipStreamFramer (SIP over TCP)', () => {
  it('cuts messages by Content-Length, however the bytes are split into chunks', () => {
    const stream = [message('v=0\r\n'), '\r\n\r\n', message(''), message('héllo', 'l')].join('');
    const expected = [message('v=0\r\n'), message(''), message('héllo', 'l')];
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 30 }), (sizes) => {
        const framer = new SipStreamFramer(65536);
        const bytes = Buffer.from(stream);
        const out: string[] = [];
        let at = 0;
        for (let i = 0; at < bytes.length; i++) {
          const size = sizes[i % sizes.length] as number;
          out.push(...framer.push(bytes.subarray(at, at + size)).map((m) => m.toString()));
          at += size;
        }
        expect(out).toEqual(expected);
      }),
    );
  });

  it('refuses a message without Content-Length and one over the size limit', () => {
    expect(() =>
      new SipStreamFramer(65536).push(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n')),
    ).toThrow(SipParseError);
    expect(() => new SipStreamFramer(100).push(Buffer.from(message('x'.repeat(200))))).toThrow(/size limit/);
    expect(() => new SipStreamFramer(100).push(Buffer.from('X'.repeat(200)))).toThrow(/size limit/);
  });
});
