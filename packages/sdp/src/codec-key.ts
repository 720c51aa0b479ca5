/**
 * Codecs are named by a key `name/clock[/channels]` with the name in its usual spelling, so that
 * a policy, an rtpmap line and a static payload type (RFC 3551 §6) compare equal.
 */
const CANONICAL_NAMES: Readonly<Record<string, string>> = {
  opus: 'opus',
  pcmu: 'PCMU',
  pcma: 'PCMA',
  g722: 'G722',
  g729: 'G729',
  gsm: 'GSM',
  g723: 'G723',
  ilbc: 'iLBC',
  isac: 'ISAC',
  cn: 'CN',
  'telephone-event': 'telephone-event',
  red: 'red',
  ulpfec: 'ulpfec',
  rtx: 'rtx',
  flexfec: 'flexfec-03',
};

/** Short names people write in a policy, and the codec each means. */
const ALIASES: Readonly<Record<string, string>> = {
  opus: 'opus/48000/2',
  'opus/48000': 'opus/48000/2',
  pcmu: 'PCMU/8000',
  g711u: 'PCMU/8000',
  'g711-ulaw': 'PCMU/8000',
  pcma: 'PCMA/8000',
  g711a: 'PCMA/8000',
  'g711-alaw': 'PCMA/8000',
  // G.722's RTP clock is 8000 although it samples at 16 kHz (RFC 3551 §4.5.2).
  g722: 'G722/8000',
  g729: 'G729/8000',
};

/** RFC 3551 §6: payload types that need no rtpmap line. */
export const STATIC_PAYLOAD_TYPES: Readonly<Record<number, string>> = {
  0: 'PCMU/8000',
  3: 'GSM/8000',
  4: 'G723/8000',
  8: 'PCMA/8000',
  9: 'G722/8000',
  13: 'CN/8000',
  18: 'G729/8000',
};

/** Payloads that carry no audio of their own: kept or dropped by what they accompany. */
export const COMPANION_CODECS: ReadonlySet<string> = new Set([
  'telephone-event',
  'CN',
  'red',
  'ulpfec',
  'rtx',
  'flexfec-03',
]);

export function codecKey(name: string, clock: number, channels?: number): string {
  const canonical = CANONICAL_NAMES[name.toLowerCase()] ?? name;
  return channels && channels > 1 ? `${canonical}/${clock}/${channels}` : `${canonical}/${clock}`;
}

/** Normalises what a person wrote (`opus`, `g711u`, `PCMU/8000`) to a codec key; undefined if unreadable. */
export function normaliseCodec(written: string): string | undefined {
  const trimmed = written.trim();
  const alias = ALIASES[trimmed.toLowerCase()];
  if (alias) return alias;
  const match = /^([A-Za-z0-9.-]+)\/(\d+)(?:\/(\d+))?$/.exec(trimmed);
  if (!match) return undefined;
  return codecKey(match[1] as string, Number(match[2]), match[3] ? Number(match[3]) : undefined);
}

export function codecName(key: string): string {
  const slash = key.indexOf('/');
  return slash === -1 ? key : key.slice(0, slash);
}

export function codecClock(key: string): number {
  const slash = key.indexOf('/');
  if (slash === -1) return Number.NaN;
  const end = key.indexOf('/', slash + 1);
  return Number(key.slice(slash + 1, end === -1 ? undefined : end));
}
