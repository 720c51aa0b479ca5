import { canonicalHeaderName, compactFormOf, headerNameEnd, headerValueStart } from '../sip/header-names.js';

/** One side of a captured message: an address and who is there. */
export interface CaptureEndpoint {
  ip: string;
  port: number;
  /** `client`: a browser's (or SIP device's) WebSocket; `gateway`: this gateway; `upstream`: the SIP server. */
  role: 'client' | 'gateway' | 'upstream';
}

/** How a message travelled, as written in Via (RFC 3261 §18, RFC 7118 §5.2). */
export type CaptureTransport = 'WS' | 'WSS' | 'UDP' | 'TCP' | 'TLS';

/**
 * A SIP message as the gateway sent or received it. In the ring it is kept as it crossed the
 * wire; what reads it out (CallRing.get) masks its secrets (secret-masking.ts). Nothing else is
 * read of it when it is captured but its Call-ID: the capture sees every message of every call,
 * operators read a few (readHead reads the rest then).
 */
export interface CapturedMessage {
  /** Order of capture across the gateway, of the messages kept. */
  seq: number;
  /** When, in ms since the epoch (fractional: microseconds). */
  at: number;
  transport: CaptureTransport;
  src: CaptureEndpoint;
  dst: CaptureEndpoint;
  /** The message: as it crossed the wire in the ring, masked once read out of it. */
  text: string;
}

/** What the capture reads of a message without parsing it whole (it sees every message). */
export interface MessageHead {
  callId: string | undefined;
  /** The request's method, or undefined for a response. */
  method: string | undefined;
  /** The response's status, or undefined for a request. */
  status: number | undefined;
  label: string;
  cseq: string;
  /** The CSeq's method (what a response answers). */
  cseqMethod: string;
  /** Whether the To header carries a tag (a request without one is outside any dialog). */
  toTagged: boolean;
  /** The From and To headers' values, as written (partyOf names who they are). */
  from: string | undefined;
  to: string | undefined;
}

const START_LINE = /^(?:SIP\/2\.0 (\d{3}) ?([^\r\n]*)|([A-Za-z]+) \S+ SIP\/2\.0)\r?\n/;

/** Whether a text starts as a SIP message does (a request line or a status line); nothing else is read. */
export function startsAsSipMessage(text: string): boolean {
  return START_LINE.test(text);
}

/** The headers read, by their canonical names (header-names.ts spells any other form so). */
type HeadField = 'callId' | 'cseq' | 'from' | 'to';
const HEAD_FIELDS: ReadonlyMap<string, HeadField> = new Map([
  ['Call-ID', 'callId'],
  ['CSeq', 'cseq'],
  ['From', 'from'],
  ['To', 'to'],
]);
/** The lengths of their names and compact forms: any other header line is passed over unread. */
const HEAD_FIELD_LENGTHS = new Set(
  [...HEAD_FIELDS.keys()].flatMap((name) => [name.length, compactFormOf(name)?.length ?? name.length]),
);

const CR = 13;

/**
 * The first value of each header of HEAD_FIELDS in `text` from `from` to `end`, in one pass over
 * the header lines: no regular expression per header, whose match objects were a tenth of what
 * the gateway allocated per call. With `only`, that header's value alone, the pass ending there.
 */
function headFields(
  text: string,
  from: number,
  end: number,
  only?: HeadField,
): Partial<Record<HeadField, string>> {
  const fields: Partial<Record<HeadField, string>> = {};
  for (let at = from; at < end; ) {
    const lf = text.indexOf('\n', at);
    const lineEnd = lf === -1 || lf > end ? end : lf;
    const colon = text.indexOf(':', at);
    if (colon !== -1 && colon < lineEnd) {
      const nameEnd = headerNameEnd(text, at, colon);
      if (HEAD_FIELD_LENGTHS.has(nameEnd - at)) {
        const field = HEAD_FIELDS.get(canonicalHeaderName(text.slice(at, nameEnd)));
        if (field !== undefined && fields[field] === undefined && (only === undefined || field === only)) {
          // Sliced without the blanks after the colon and the line's CR, so that trim() rarely
          // makes a second string.
          const valueStart = headerValueStart(text, colon);
          const valueEnd = text.charCodeAt(lineEnd - 1) === CR ? lineEnd - 1 : lineEnd;
          fields[field] = text.slice(valueStart, Math.max(valueStart, valueEnd)).trim();
          if (only !== undefined) return fields;
        }
      }
    }
    at = lineEnd + 1;
  }
  return fields;
}

/** Where a message's head ends: its blank line, or the end of the text. */
function headEndOf(text: string): number {
  const blank = text.indexOf('\r\n\r\n');
  return blank === -1 ? text.length : blank + 2;
}

/** A Call-ID line as this gateway and nearly every client write it. */
const CALL_ID_LINE = '\r\nCall-ID: ';

/**
 * The Call-ID of a SIP message (startsAsSipMessage), all the capture reads of a message as it passes.
 * Found by one search when written as nearly everyone writes it, and read line by line (compact
 * form, any case, blanks) otherwise. A message with two Call-IDs (a request with them is refused
 * by the SIP server) may be filed under either.
 */
export function readCallId(text: string): string | undefined {
  const headEnd = headEndOf(text);
  const line = text.indexOf(CALL_ID_LINE);
  if (line !== -1 && line < headEnd) {
    const start = line + CALL_ID_LINE.length;
    // To the line's end, a bare LF's too (the parser takes mixed line ends), CR trimmed off.
    const lf = text.indexOf('\n', start);
    const value = text.slice(start, lf === -1 || lf > headEnd ? headEnd : lf).trim();
    if (value.length > 0) return value;
  }
  return headFields(text, text.indexOf('\n') + 1, headEnd, 'callId').callId;
}

/**
 * The user@host of a From or To value (`"Alice" <sip:alice@example.com>;tag=1` → `alice@example.com`),
 * without the password RFC 3261 §19.1.1 lets a URI carry (`sip:alice:secret@…`): operators see it.
 */
export function partyOf(value: string | undefined): string | undefined {
  const uri = value && /sips?:([^:@>;\s]+)(?::[^@>;\s]*(?=@))?([^>;\s]*)/i.exec(value);
  return uri ? `${uri[1]}${uri[2]}` : undefined;
}

/** The start line and the few headers the ring needs, or undefined for what is not a SIP message. */
export function readHead(text: string): MessageHead | undefined {
  const start = START_LINE.exec(text);
  if (!start) return undefined;
  const { callId, cseq = '', from, to } = headFields(text, start[0].length, headEndOf(text));
  const status = start[1] === undefined ? undefined : Number(start[1]);
  const method = start[3]?.toUpperCase();
  const space = cseq.indexOf(' ');
  return {
    callId,
    method,
    status,
    label: method ?? `${status} ${start[2] ?? ''}`.trim().slice(0, 40),
    cseq,
    cseqMethod: (space === -1 ? '' : cseq.slice(space + 1).trim()).toUpperCase(),
    toTagged: /;\s*tag=/i.test(to ?? ''),
    from,
    to,
  };
}
