/**
 * Header names as data: the compact forms of RFC 3261 §7.3.3 (and the extensions that define
 * one), the canonical spelling of names whose capitalisation is not plain Title-Case, and which
 * headers may carry a comma-separated list (RFC 3261 §7.3.1) and so can be split into one value
 * per field. Headers such as WWW-Authenticate or Date contain commas that are not list separators
 * and must never be split.
 */
const COMPACT_FORMS: Readonly<Record<string, string>> = {
  a: 'Accept-Contact',
  b: 'Referred-By',
  c: 'Content-Type',
  d: 'Request-Disposition',
  e: 'Content-Encoding',
  f: 'From',
  i: 'Call-ID',
  j: 'Reject-Contact',
  k: 'Supported',
  l: 'Content-Length',
  m: 'Contact',
  n: 'Identity-Info',
  o: 'Event',
  r: 'Refer-To',
  s: 'Subject',
  t: 'To',
  u: 'Allow-Events',
  v: 'Via',
  x: 'Session-Expires',
  y: 'Identity',
};

/** Names whose capitalisation is not plain Title-Case. */
const IRREGULAR_SPELLINGS = [
  'Call-ID',
  'CSeq',
  'WWW-Authenticate',
  'MIME-Version',
  'RAck',
  'RSeq',
  'SIP-ETag',
  'SIP-If-Match',
];

/** Names seen in almost every message, looked up without building a string (the parser's hot path). */
const COMMON_NAMES = [
  'Via',
  'From',
  'To',
  'Contact',
  'Max-Forwards',
  'Expires',
  'Content-Length',
  'Content-Type',
  'User-Agent',
  'Allow',
  'Supported',
  'Route',
  'Record-Route',
  'Authorization',
  'Proxy-Authorization',
  'Require',
  'Event',
  'Accept',
  'Min-Expires',
  'Server',
  'Warning',
];

const KNOWN_NAMES: ReadonlyMap<string, string> = new Map(
  [...IRREGULAR_SPELLINGS, ...COMMON_NAMES].map((name) => [name.toLowerCase(), name]),
);

const LIST_HEADERS: ReadonlySet<string> = new Set([
  'Accept',
  'Accept-Encoding',
  'Accept-Language',
  'Allow',
  'Allow-Events',
  'Contact',
  'Content-Encoding',
  'Content-Language',
  'In-Reply-To',
  'Path',
  'Proxy-Require',
  'Record-Route',
  'Require',
  'Route',
  'Supported',
  'Unsupported',
  'Via',
]);

const COMPACT_BY_NAME = new Map(Object.entries(COMPACT_FORMS).map(([compact, name]) => [name, compact]));

/** The compact form of a canonical header name (`From` → `f`), where one is defined. */
export function compactFormOf(canonicalName: string): string | undefined {
  return COMPACT_BY_NAME.get(canonicalName);
}

/**
 * Names already written as they are spelled here (`Via`, `Call-ID`) or in a compact form (`v`),
 * each to its canonical name: nearly every header of nearly every message, looked up without
 * lower-casing it first.
 */
const AS_WRITTEN: ReadonlyMap<string, string> = new Map([
  ...[...KNOWN_NAMES.values()].map((name): [string, string] => [name, name]),
  ...Object.entries(COMPACT_FORMS),
]);

/** The canonical spelling of a header name, expanding compact forms. */
export function canonicalHeaderName(name: string): string {
  const known = AS_WRITTEN.get(name);
  if (known !== undefined) return known;
  const lower = name.toLowerCase();
  const expanded = KNOWN_NAMES.get(lower) ?? COMPACT_FORMS[lower];
  if (expanded) return expanded;
  return lower.replace(/(^|-)([a-z])/g, (_m, dash: string, ch: string) => dash + ch.toUpperCase());
}

/** Whether a header's value is a comma-separated list that may be split into several fields. */
export function isListHeader(canonicalName: string): boolean {
  return LIST_HEADERS.has(canonicalName);
}

const isBlank = (code: number) => code === 0x20 || code === 0x09;

/**
 * Where the name of the header line starting at `start` in `text` ends, given its colon: before
 * the blanks RFC 3261 §7.3.1 allows ahead of the colon. Read by position, without a regular
 * expression per line (issue 28): the parser and the capture read every header of every message.
 */
export function headerNameEnd(text: string, start: number, colon: number): number {
  let end = colon;
  while (end > start && isBlank(text.charCodeAt(end - 1))) end -= 1;
  return end;
}

/** Where the value of a header line starts: past the blanks after its colon. */
export function headerValueStart(text: string, colon: number): number {
  let start = colon + 1;
  while (isBlank(text.charCodeAt(start))) start += 1;
  return start;
}
