import { Grammar, type NameAddrHeader, type URI } from 'sip.js/lib/grammar/index.js';

/**
 * SIP URIs and name-addr values, parsed with SIP.js's grammar (RFC 3261 §25) rather than a
 * grammar of our own.
 */
export type { NameAddrHeader, URI };

export function parseUri(value: string): URI | undefined {
  return Grammar.URIParse(value);
}

export function parseNameAddr(value: string): NameAddrHeader | undefined {
  return Grammar.nameAddrHeaderParse(value);
}

/** The address-of-record a URI names: scheme, user and host, nothing else (RFC 3261 §10.3 step 5). */
export function addressOfRecord(uri: URI): string {
  return `sip:${uri.user ?? ''}@${uri.host.toLowerCase()}`;
}

export interface ContactValue {
  uri: URI;
  params: Record<string, string | null>;
  raw: string;
}

/** Parses one Contact value; `*` is handled by the registrar before this is called. */
export function parseContact(value: string): ContactValue | undefined {
  const parsed = Grammar.parse(value, 'Contact') as unknown;
  if (!Array.isArray(parsed) || parsed.length !== 1) return undefined;
  const header = (parsed[0] as { parsed: NameAddrHeader }).parsed;
  const params: Record<string, string | null> = {};
  const raw = (header as unknown as { parameters: Record<string, string | null> }).parameters;
  for (const key of Object.keys(raw)) params[key.toLowerCase()] = raw[key] ?? null;
  return { uri: header.uri, params, raw: value };
}
