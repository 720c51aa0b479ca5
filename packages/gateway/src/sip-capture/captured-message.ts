import { compactFormOf } from '../sip/header-names.js';

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
 * wire; what reads it out (CallRing.get) masks its secrets (secret-masking.ts).
 */
export interface CapturedMessage {
  /** Order of capture across the gateway. */
  seq: number;
  /** When, in ms since the epoch (fractional: microseconds). */
  at: number;
  transport: CaptureTransport;
  src: CaptureEndpoint;
  dst: CaptureEndpoint;
  /** The message: as it crossed the wire in the ring, masked once read out of it. */
  text: string;
  /** `INVITE`, `180 Ringing`: the start line, shortened. */
  label: string;
  /** The CSeq header's value (`1 INVITE`). */
  cseq: string;
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
  from: string | undefined;
  to: string | undefined;
}

const START_LINE = /^(?:SIP\/2\.0 (\d{3}) ?([^\r\n]*)|([A-Za-z]+) \S+ SIP\/2\.0)\r?\n/;

/** A header's value in a header section, by its name or its compact form (header-names.ts). */
function headerPattern(name: string): RegExp {
  const compact = compactFormOf(name);
  return new RegExp(`\\n(?:${compact ? `${name}|${compact}` : name})[ \\t]*:[ \\t]*([^\\r\\n]*)`, 'i');
}

/** The headers read. */
const FIELDS = {
  callId: headerPattern('Call-ID'),
  cseq: headerPattern('CSeq'),
  from: headerPattern('From'),
  to: headerPattern('To'),
};

/** The value of a header in a header section. */
function field(head: string, name: keyof typeof FIELDS): string | undefined {
  return FIELDS[name].exec(head)?.[1]?.trim();
}

/**
 * The user@host of a From or To value (`"Alice" <sip:alice@example.com>;tag=1` → `alice@example.com`),
 * without the password RFC 3261 §19.1.1 lets a URI carry (`sip:alice:secret@…`): operators see it.
 */
function party(value: string | undefined): string | undefined {
  const uri = value && /sips?:([^:@>;\s]+)(?::[^@>;\s]*(?=@))?([^>;\s]*)/i.exec(value);
  return uri ? `${uri[1]}${uri[2]}` : undefined;
}

/** The start line and the few headers the ring needs, or undefined for what is not a SIP message. */
export function readHead(text: string): MessageHead | undefined {
  const start = START_LINE.exec(text);
  if (!start) return undefined;
  const end = text.indexOf('\r\n\r\n');
  const head = end === -1 ? text : text.slice(0, end);
  const cseq = field(head, 'cseq') ?? '';
  const to = field(head, 'to');
  const status = start[1] === undefined ? undefined : Number(start[1]);
  const method = start[3]?.toUpperCase();
  return {
    callId: field(head, 'callId'),
    method,
    status,
    label: method ?? `${status} ${start[2] ?? ''}`.trim().slice(0, 40),
    cseq,
    cseqMethod: (cseq.split(/\s+/)[1] ?? '').toUpperCase(),
    toTagged: /;\s*tag=/i.test(to ?? ''),
    from: party(field(head, 'from')),
    to: party(to),
  };
}
