/**
 * The SIP message model the gateway works on: a start line, an ordered list of header fields
 * (one value per field, list headers already split) and a body. Plain data, so that the proxy
 * can copy a request, change a few fields and serialise it again.
 */
export interface SipHeaderField {
  /** Canonical name (see header-names.ts). */
  name: string;
  value: string;
}

interface SipMessageBase {
  headers: SipHeaderField[];
  body: string;
}

export interface SipRequest extends SipMessageBase {
  kind: 'request';
  method: string;
  uri: string;
}

export interface SipResponse extends SipMessageBase {
  kind: 'response';
  status: number;
  reason: string;
}

export type SipMessage = SipRequest | SipResponse;

/** The first value of a header, or undefined. */
export function header(message: SipMessage, name: string): string | undefined {
  return message.headers.find((h) => h.name === name)?.value;
}

/** Every value of a header, in order. */
export function headers(message: SipMessage, name: string): string[] {
  return message.headers.filter((h) => h.name === name).map((h) => h.value);
}

// The copies below build their field list in one pass or one copy: the proxy makes several per
// message it forwards, and slices spread into a new array were a copy and a half each.

/** A copy of the message with every field of `name` replaced by one field (or removed if undefined). */
export function withHeader<M extends SipMessage>(message: M, name: string, value: string | undefined): M {
  const fields: SipHeaderField[] = [];
  // The new field takes the place of the first old one, or goes last.
  let placed = value === undefined;
  for (const field of message.headers) {
    if (field.name !== name) fields.push(field);
    else if (!placed) {
      fields.push({ name, value: value as string });
      placed = true;
    }
  }
  if (!placed) fields.push({ name, value: value as string });
  return { ...message, headers: fields };
}

/** A copy of the message with the first field of `name` given a new value (appended if there is none). */
export function withFirstHeader<M extends SipMessage>(message: M, name: string, value: string): M {
  const at = message.headers.findIndex((h) => h.name === name);
  if (at === -1) return { ...message, headers: [...message.headers, { name, value }] };
  const fields = message.headers.slice();
  fields[at] = { name, value };
  return { ...message, headers: fields };
}

/** A copy of the message with a field added before every other field of that name (or at the top). */
export function withHeaderPrepended<M extends SipMessage>(message: M, name: string, value: string): M {
  const at = message.headers.findIndex((h) => h.name === name);
  const position = at === -1 ? 0 : at;
  const fields: SipHeaderField[] = [];
  message.headers.forEach((field, i) => {
    if (i === position) fields.push({ name, value });
    fields.push(field);
  });
  if (position === message.headers.length) fields.push({ name, value });
  return { ...message, headers: fields };
}

/** A copy of the message without the first field of `name`. */
export function withoutFirstHeader<M extends SipMessage>(message: M, name: string): M {
  const at = message.headers.findIndex((h) => h.name === name);
  if (at === -1) return message;
  return { ...message, headers: message.headers.filter((_, i) => i !== at) };
}

/**
 * A copy of a string that shares no memory with the message it was read from. V8 keeps a
 * substring as a slice of its parent, so one header value kept for minutes (a binding, a
 * lingering transaction) would keep the whole message (up to 64 KB) alive with it. Slicing a
 * concatenation makes V8 flatten it into a new string first (V8 issue 2869), all inside the V8
 * heap: a copy through a Buffer took an 8 KB pool slab from malloc every few messages, freed only
 * by a later full GC; glibc kept 8 MB less after a 200,000-message fuzz run without them (issue 28).
 */
export function detached(text: string): string {
  return ` ${text}`.slice(1);
}

/**
 * What a map or a lingering transaction keeps of a request: its start line, the headers named
 * and, if asked, its body, all detached from the message (see `detached`).
 */
export function retainedRequest(
  request: SipRequest,
  keep: { headers: ReadonlySet<string>; body?: boolean },
): SipRequest {
  return {
    kind: 'request',
    method: detached(request.method),
    uri: detached(request.uri),
    headers: request.headers
      .filter((h) => keep.headers.has(h.name))
      .map((h) => ({ name: h.name, value: detached(h.value) })),
    body: keep.body ? detached(request.body) : '',
  };
}
