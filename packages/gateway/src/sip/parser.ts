import { parseNameAddr } from './address.js';
import { canonicalHeaderName, headerNameEnd, headerValueStart, isListHeader } from './header-names.js';
import type { SipHeaderField, SipMessage } from './message.js';
import { SipParseError } from './parse-error.js';

const REQUEST_LINE = /^([A-Za-z0-9.!%*_+`'~-]+) +(\S+) +SIP\/(\d+\.\d+)$/;
const STATUS_LINE = /^SIP\/(\d+\.\d+) +(\d{3}) *(.*)$/;
/** A header name (RFC 3261 §25.1 token); a header line is `name *(SP/HT) ":" value`. */
const HEADER_NAME = /^[A-Za-z0-9.!%*_+`'~-]+$/;
/** What no header line may hold once split into lines. */
const LINE_BREAK = /[\r\n\u2028\u2029]/;
const URI_SHAPE = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$/;
const REQUIRED_IN_REQUESTS = ['Via', 'From', 'To', 'Call-ID', 'CSeq'] as const;
/** Headers a request carries once at most (RFC 3261 §7.3.1: only list headers may repeat). */
const SINGLE_IN_REQUESTS = ['From', 'To', 'Call-ID', 'CSeq', 'Max-Forwards'] as const;
const PARTIES = ['From', 'To'] as const;
const MAX_CSEQ = 2 ** 31 - 1;

/**
 * Splits a list header's value at commas that are not inside a quoted string or a <...> URI
 * (RFC 3261 §7.3.1: a display name or a URI may contain commas).
 */
export function splitHeaderList(value: string): string[] {
  const parts: string[] = [];
  let inQuotes = false;
  let inAngle = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (inQuotes) {
      if (ch === '\\') i++;
      else if (ch === '"') inQuotes = false;
    } else if (ch === '"') inQuotes = true;
    else if (ch === '<') inAngle = true;
    else if (ch === '>') inAngle = false;
    else if (ch === ',' && !inAngle) {
      parts.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(value.slice(start).trim());
  return parts.filter((p) => p.length > 0);
}

/** A message's head and body, and the body's length in bytes (what Content-Length counts). */
interface Parts {
  head: string;
  body: string;
  bodyBytes: number;
}

/**
 * Where a message's head ends and how long the empty line after it is: CRLF CRLF, or LF LF, as
 * many hand-written clients send bare LF line ends (RFC 3261 §7.5 asks for leniency).
 */
function headEnd(message: Buffer | string): { end: number; gap: number } {
  const crlf = message.indexOf('\r\n\r\n');
  return crlf !== -1 ? { end: crlf, gap: 4 } : { end: message.indexOf('\n\n'), gap: 2 };
}

function splitBytes(data: Buffer): Parts {
  const { end, gap } = headEnd(data);
  if (end === -1) return { head: data.toString('utf8'), body: '', bodyBytes: 0 };
  const body = data.subarray(end + gap);
  return {
    head: data.subarray(0, end).toString('utf8'),
    body: body.toString('utf8'),
    bodyBytes: body.length,
  };
}

/** As splitBytes, for a message already read as text (a WebSocket frame): no bytes decoded again. */
function splitText(text: string): Parts {
  const { end, gap } = headEnd(text);
  if (end === -1) return { head: text, body: '', bodyBytes: 0 };
  const body = text.slice(end + gap);
  return { head: text.slice(0, end), body, bodyBytes: Buffer.byteLength(body) };
}

const LEADING_LINE_ENDS = /^(\r?\n)+/;

/** Lines split at CRLF, or at bare LF where a hand-written client sent those (RFC 3261 §7.5). */
function splitLines(head: string): string[] {
  // Most messages end every line with CRLF: split there without a regular expression.
  const lines = head.split('\r\n');
  return lines.some((line) => line.includes('\n')) ? head.split(/\r?\n/) : lines;
}

/** Header lines with continuation lines (leading SP/HT, RFC 3261 §7.3.1) folded into their field. */
function unfold(lines: string[]): string[] {
  // Folding is obsolete and rare (RFC 3261 §7.3.1 allows it): most heads have none to undo.
  if (!lines.some((line) => line.startsWith(' ') || line.startsWith('\t'))) return lines;
  const out: string[] = [];
  for (const line of lines) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && out.length > 0) {
      out[out.length - 1] = `${out[out.length - 1]} ${line.trim()}`;
    } else out.push(line);
  }
  return out;
}

function parseHeaderFields(lines: string[], method: string): SipHeaderField[] {
  const fields: SipHeaderField[] = [];
  for (const line of unfold(lines)) {
    const colon = line.indexOf(':');
    const written = colon > 0 ? line.slice(0, headerNameEnd(line, 0, colon)) : '';
    if (!HEADER_NAME.test(written) || LINE_BREAK.test(line))
      throw new SipParseError(`malformed header line "${line.slice(0, 60)}"`, { method, headers: fields });
    const name = canonicalHeaderName(written);
    // Sliced past the blanks after the colon: trim() then has nothing left to cut (and makes no
    // second string) but in the rare value with blanks at its end.
    const value = line.slice(headerValueStart(line, colon)).trim();
    if (!isListHeader(name)) fields.push({ name, value });
    // A list with one value (nearly every Via, Contact and Record-Route) needs no splitting; an
    // empty list is no field at all, as splitHeaderList would have it.
    else if (!value.includes(',')) {
      if (value.length > 0) fields.push({ name, value });
    } else for (const part of splitHeaderList(value)) fields.push({ name, value: part });
  }
  return fields;
}

function single(fields: SipHeaderField[], name: string): string | undefined {
  return fields.find((f) => f.name === name)?.value;
}

function checkContentLength(
  fields: SipHeaderField[],
  bodyBytes: number,
  partial: SipParseError['partial'],
): void {
  const declared = fields.filter((f) => f.name === 'Content-Length');
  if (declared.length === 0) return; // optional on a message-based transport such as WebSocket (RFC 7118 §5)
  if (declared.length > 1) throw new SipParseError('more than one Content-Length', partial);
  const value = (declared[0] as SipHeaderField).value;
  if (!/^\d+$/.test(value)) throw new SipParseError(`Content-Length "${value}" is not a number`, partial);
  if (Number(value) !== bodyBytes) {
    throw new SipParseError(`Content-Length ${value} does not match the body's ${bodyBytes} bytes`, partial);
  }
}

function checkRequestHeaders(method: string, fields: SipHeaderField[]): void {
  const partial = { method, headers: fields };
  for (const name of REQUIRED_IN_REQUESTS) {
    if (single(fields, name) === undefined) throw new SipParseError(`missing ${name} header`, partial);
  }
  for (const name of SINGLE_IN_REQUESTS) {
    let seen = 0;
    for (const field of fields) if (field.name === name) seen += 1;
    if (seen > 1) throw new SipParseError(`more than one ${name}`, partial);
  }
  // From and To must be readable name-addrs (an unterminated quoted display name is not: Kamailio
  // answers 400 there too); everything after routes and authenticates by them.
  for (const name of PARTIES) {
    if (!parseNameAddr(single(fields, name) as string))
      throw new SipParseError(`malformed ${name} header`, partial);
  }
  const cseq = /^(\d+)\s+(\S+)$/.exec(single(fields, 'CSeq') as string);
  if (!cseq || Number(cseq[1]) > MAX_CSEQ) throw new SipParseError('malformed CSeq', partial);
  if (cseq[2] !== method) throw new SipParseError(`CSeq method ${cseq[2]} does not match ${method}`, partial);
  const maxForwards = single(fields, 'Max-Forwards');
  // 1*DIGIT, leading zeros allowed (RFC 4475 wsinv), at most 255 (RFC 4475 scalar02).
  if (maxForwards !== undefined && (!/^\d+$/.test(maxForwards) || Number(maxForwards) > 255)) {
    throw new SipParseError(`malformed Max-Forwards "${maxForwards}"`, partial);
  }
}

/**
 * Parses one SIP message from a WebSocket frame (RFC 7118: one message per frame).
 * Throws SipParseError, carrying what could be read, when the message is malformed.
 */
export function parseSipMessage(input: Buffer | string): SipMessage {
  const { head, body, bodyBytes } = typeof input === 'string' ? splitText(input) : splitBytes(input);
  const lines = splitLines(head.replace(LEADING_LINE_ENDS, ''));
  const startLine = (lines.shift() ?? '').trim();

  const status = STATUS_LINE.exec(startLine);
  if (status) {
    if (status[1] !== '2.0') throw new SipParseError(`SIP version ${status[1]} is not supported`);
    // RFC 3261 §7.2: 1xx to 6xx; anything else is not a SIP status and is not relayed.
    if (Number(status[2]) < 100 || Number(status[2]) > 699)
      throw new SipParseError(`status code ${status[2]} is out of range`);
    const fields = parseHeaderFields(lines, '');
    checkContentLength(fields, bodyBytes, undefined);
    return {
      kind: 'response',
      status: Number(status[2]),
      reason: status[3] ?? '',
      headers: fields,
      body,
    };
  }

  const request = REQUEST_LINE.exec(startLine);
  if (!request) throw new SipParseError(`malformed start line "${startLine.slice(0, 60)}"`);
  const method = request[1] as string;
  const uri = request[2] as string;
  const fields = parseHeaderFields(lines, method);
  const partial = { method, headers: fields };
  if (request[3] !== '2.0')
    throw new SipParseError(`SIP version ${request[3]} is not supported`, partial, 505);
  if (!URI_SHAPE.test(uri)) throw new SipParseError(`malformed Request-URI "${uri.slice(0, 60)}"`, partial);
  checkRequestHeaders(method, fields);
  checkContentLength(fields, bodyBytes, partial);
  return { kind: 'request', method, uri, headers: fields, body };
}
