import { SipParseError } from '../parse-error.js';

const HEADER_END = Buffer.from('\r\n\r\n');
/** Content-Length, or its compact form `l` (RFC 3261 §7.3.3). */
const CONTENT_LENGTH = /^(?:content-length|l)[ \t]*:[ \t]*(\d+)[ \t]*$/im;

/**
 * Cuts a SIP byte stream (TCP) into messages by their Content-Length, which RFC 3261 §18.3
 * makes mandatory on streams. CRLF keep-alives between messages (RFC 5626 §3.5.1) are skipped.
 * Written here because no maintained npm package frames SIP over a stream on its own.
 */
export class SipStreamFramer {
  #buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly maxMessageBytes: number) {}

  /** Adds bytes; returns the messages they complete. Throws when the stream cannot be framed. */
  push(chunk: Buffer): Buffer[] {
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    const messages: Buffer[] = [];
    for (;;) {
      let start = 0;
      while (start < this.#buffer.length && (this.#buffer[start] === 0x0d || this.#buffer[start] === 0x0a))
        start += 1;
      if (start > 0) this.#buffer = this.#buffer.subarray(start);
      const headerEnd = this.#buffer.indexOf(HEADER_END);
      if (headerEnd === -1) {
        if (this.#buffer.length > this.maxMessageBytes)
          throw new SipParseError('a SIP header block longer than the message size limit');
        return messages;
      }
      const head = this.#buffer.subarray(0, headerEnd).toString('latin1');
      const length = CONTENT_LENGTH.exec(head);
      if (!length) throw new SipParseError('a SIP message on a stream without Content-Length');
      const total = headerEnd + HEADER_END.length + Number(length[1]);
      if (total > this.maxMessageBytes) throw new SipParseError('a SIP message larger than the size limit');
      if (this.#buffer.length < total) return messages;
      messages.push(this.#buffer.subarray(0, total));
      this.#buffer = this.#buffer.subarray(total);
    }
  }
}
