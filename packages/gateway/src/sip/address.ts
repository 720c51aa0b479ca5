import { recentlyRead } from './recently-read.js';

/**
 * SIP URIs and name-addr values (RFC 3261 §19.1, §20.10, §25.1), read by a small scanner.
 *
 * Why not SIP.js's grammar: its PEG parser decodes its whole bytecode table again on every call
 * (0.27 ms for one Contact here), which capped the registrar near 1,500 REGISTER/s. This reader
 * takes a few microseconds; the tests check it against SIP.js's grammar as the reference on
 * generated and real values (test/address.test.ts).
 */
export interface SipUri {
  readonly scheme: 'sip' | 'sips';
  /** The user part with %-escapes decoded (RFC 3261 §19.1.4 compares unescaped). */
  readonly user: string | undefined;
  /** Lower-cased host: a name, an IPv4 address or a bracketed IPv6 reference. */
  readonly host: string;
  readonly port: number | undefined;
  /** URI parameters; names lower-cased, a flag has the value null. */
  readonly params: Readonly<Record<string, string | null>>;
  /** The URI as written, without its `?headers` part. */
  readonly withoutHeaders: string;
}

export interface NameAddr {
  readonly displayName: string | undefined;
  readonly uri: SipUri;
  /** Header parameters (tag, expires, q, +sip.instance…); names lower-cased. */
  readonly params: Readonly<Record<string, string | null>>;
}

const SCHEME = /^(sips?):/i;
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?\.?)$/;
const PORT = /^\d{1,5}$/;
const TOKEN = /^[A-Za-z0-9.!%*_+`'~-]+$/;
const PARAM_VALUE = /^(?:[A-Za-z0-9.!%*_+`'~:\-[\]/&$]+|"(?:[^"\\]|\\.)*")$/;

/** Splits at `separator` outside quoted strings. */
function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let inQuotes = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inQuotes) {
      if (ch === '\\') i++;
      else if (ch === '"') inQuotes = false;
    } else if (ch === '"') inQuotes = true;
    else if (ch === separator) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** `;name=value;flag` → record; undefined when a parameter is malformed. */
function parseParams(text: string, lowerCaseValues: boolean): Record<string, string | null> | undefined {
  const params: Record<string, string | null> = {};
  if (text.trim() === '') return params;
  const parts = splitOutsideQuotes(text, ';');
  if ((parts.shift() ?? '').trim() !== '') return undefined;
  for (const part of parts) {
    const eq = part.indexOf('=');
    const name = (eq === -1 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (!TOKEN.test(name)) return undefined;
    if (eq === -1) {
      params[name] = null;
      continue;
    }
    const value = part.slice(eq + 1).trim();
    if (!PARAM_VALUE.test(value)) return undefined;
    params[name] = lowerCaseValues && !value.startsWith('"') ? value.toLowerCase() : value;
  }
  return params;
}

function decodeUserPart(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

export const parseUri = recentlyRead(readUri, 16);

function readUri(text: string): SipUri | undefined {
  const value = text.trim();
  const scheme = SCHEME.exec(value);
  if (!scheme) return undefined;
  const question = value.indexOf('?');
  const withoutHeaders = question === -1 ? value : value.slice(0, question);
  const rest = withoutHeaders.slice(scheme[0].length);
  const at = rest.lastIndexOf('@');
  let user: string | undefined;
  if (at !== -1) {
    const userinfo = rest.slice(0, at);
    const colon = userinfo.indexOf(':');
    user = decodeUserPart(colon === -1 ? userinfo : userinfo.slice(0, colon));
    if (user === undefined || user === '' || /[\s<>"]/.test(user)) return undefined;
  }
  const hostAndParams = rest.slice(at + 1);
  const semicolon = hostAndParams.indexOf(';');
  const hostport = semicolon === -1 ? hostAndParams : hostAndParams.slice(0, semicolon);
  const portAt = hostport.startsWith('[') ? hostport.indexOf(']:') + 1 : hostport.lastIndexOf(':');
  const host = portAt > 0 ? hostport.slice(0, portAt) : hostport;
  const port = portAt > 0 ? hostport.slice(portAt + 1) : undefined;
  if (!HOST.test(host) || (port !== undefined && (!PORT.test(port) || Number(port) > 65535)))
    return undefined;
  const params = parseParams(semicolon === -1 ? '' : hostAndParams.slice(semicolon), true);
  if (!params) return undefined;
  return {
    scheme: (scheme[1] as string).toLowerCase() as SipUri['scheme'],
    user,
    host: host.toLowerCase(),
    port: port === undefined ? undefined : Number(port),
    params,
    withoutHeaders,
  };
}

/** Reads a quoted string at the start of `text`; returns its content and the rest. */
function quoted(text: string): [content: string, rest: string] | undefined {
  for (let i = 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return [text.slice(1, i), text.slice(i + 1)];
  }
  return undefined;
}

/** A From, To, Contact, Route or Record-Route value: `"Name" <uri>;params`, `<uri>;params` or `uri;params`. */
export const parseNameAddr = recentlyRead(readNameAddr, 16);

function readNameAddr(text: string): NameAddr | undefined {
  let rest = text.trim();
  let displayName: string | undefined;
  let uriText: string;
  if (rest.startsWith('"')) {
    const read = quoted(rest);
    if (!read) return undefined;
    displayName = read[0];
    rest = read[1].trimStart();
    if (!rest.startsWith('<')) return undefined;
  }
  const open = rest.indexOf('<');
  if (open !== -1) {
    const name = rest.slice(0, open).trim();
    if (name !== '') {
      if (displayName !== undefined || !name.split(/\s+/).every((word) => TOKEN.test(word))) return undefined;
      displayName = name;
    }
    const close = rest.indexOf('>', open);
    if (close === -1) return undefined;
    uriText = rest.slice(open + 1, close);
    rest = rest.slice(close + 1);
  } else {
    // RFC 3261 §20.10: without <>, everything after the first ';' is a header parameter.
    const semicolon = rest.indexOf(';');
    uriText = semicolon === -1 ? rest : rest.slice(0, semicolon);
    rest = semicolon === -1 ? '' : rest.slice(semicolon);
    if (uriText.includes('?') || /\s/.test(uriText.trim())) return undefined;
  }
  const uri = readUri(uriText);
  const params = parseParams(rest, false);
  if (!uri || !params) return undefined;
  return { displayName, uri, params };
}

/** The address-of-record a URI names: scheme, user and host, nothing else (RFC 3261 §10.3 step 5). */
export function addressOfRecord(uri: SipUri): string {
  return `sip:${uri.user ?? ''}@${uri.host}`;
}
