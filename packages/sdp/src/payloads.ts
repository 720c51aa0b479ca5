import { codecClock, codecKey, codecName, STATIC_PAYLOAD_TYPES } from './codec-key.js';
import { type MediaSection, RULES } from './sdp-lines.js';

export interface PayloadCodec {
  payload: string;
  key: string;
  /** The key's name and clock rate, read once: a selection asks for them of every codec several times. */
  name: string;
  clock: number;
  /** The fmtp parameters as written, if there is an fmtp line. */
  fmtp: string | undefined;
}

/** Codecs of sections already read: a section is asked several times per offer or answer, and never changes. */
const codecsOf = new WeakMap<MediaSection, readonly PayloadCodec[]>();

/** The codecs of an RTP m-line, in the m-line's order (static payload types included). */
export function payloadCodecs(section: MediaSection): readonly PayloadCodec[] {
  let codecs = codecsOf.get(section);
  if (!codecs) {
    codecs = readPayloadCodecs(section);
    codecsOf.set(section, codecs);
  }
  return codecs;
}

/** A codec as a payload line names it: its key, and the key's name and clock rate. */
type NamedCodec = Pick<PayloadCodec, 'key' | 'name' | 'clock'>;

const named = (key: string): NamedCodec => ({ key, name: codecName(key), clock: codecClock(key) });

/** RFC 3551 §6's static payload types, named once. */
const STATIC_CODECS: ReadonlyMap<string, NamedCodec> = new Map(
  Object.entries(STATIC_PAYLOAD_TYPES).map(([payload, key]) => [payload, named(key)]),
);

/**
 * What rtpmap lines name, by the line: offers and answers repeat the same few (a browser's
 * `a=rtpmap:111 opus/48000/2` on every call), and reading one anew — the grammar's regular
 * expression, the key's spelling — was most of what reading a section cost. Lines come from
 * the wire, so the memo is bounded: lines up to 64 characters (real ones are about 30), 512 of
 * them, and it starts afresh when full.
 */
const rtpmapMemo = new Map<string, { payload: string; codec: NamedCodec } | null>();

/**
 * A copy of a substring that shares no memory with its parent (the gateway's `detached` does the
 * same): V8 keeps a substring as a slice of its parent, so a memo's key or value would keep the
 * whole SDP, and the message it came in, alive.
 */
const copied = (text: string) => ` ${text}`.slice(1);
const RTPMAP_MEMO_SIZE = 512;
const RTPMAP_MEMO_LINE = 64;

function readRtpmap(line: string): { payload: string; codec: NamedCodec } | null {
  let read = rtpmapMemo.get(line);
  if (read === undefined) {
    const map = RULES.rtpmap.exec(line.slice(2));
    read = map
      ? {
          payload: copied(map[1] as string),
          codec: named(codecKey(map[2] as string, Number(map[3]), map[4] ? Number(map[4]) : undefined)),
        }
      : null;
    if (line.length > RTPMAP_MEMO_LINE) return read;
    if (rtpmapMemo.size >= RTPMAP_MEMO_SIZE) rtpmapMemo.clear();
    rtpmapMemo.set(copied(line), read);
  }
  return read;
}

const LOWER_F = 0x66;
const LOWER_R = 0x72;

function readPayloadCodecs(section: MediaSection): PayloadCodec[] {
  const rtpmap = new Map<string, NamedCodec>();
  const fmtp = new Map<string, string>();
  for (const line of section.lines) {
    // The third character first: most lines are neither a=rtpmap: nor a=fmtp:.
    const third = line.charCodeAt(2);
    if (third === LOWER_R && line.startsWith('a=rtpmap:')) {
      const read = readRtpmap(line);
      if (read) rtpmap.set(read.payload, read.codec);
    } else if (third === LOWER_F && line.startsWith('a=fmtp:')) {
      const parameters = RULES.fmtp.exec(line.slice(2));
      if (parameters) fmtp.set(parameters[1] as string, parameters[2] as string);
    }
  }
  const codecs: PayloadCodec[] = [];
  for (const payload of section.media.formats) {
    const codec = rtpmap.get(payload) ?? STATIC_CODECS.get(payload);
    if (codec)
      codecs.push({ payload, key: codec.key, name: codec.name, clock: codec.clock, fmtp: fmtp.get(payload) });
  }
  return codecs;
}

/** The lines RULES.rtpmap, fmtp and rtcpFb can match: tested first, as most lines are none of them. */
const PAYLOAD_LINE = /^a=(?:rtpmap|fmtp|rtcp-fb):/;

/** The payload a payload-specific attribute line (rtpmap, fmtp, rtcp-fb) is about, if it is one. */
function payloadOf(line: string): string | undefined {
  if (!PAYLOAD_LINE.test(line)) return undefined;
  for (const rule of [RULES.rtpmap, RULES.fmtp, RULES.rtcpFb]) {
    const match = rule.exec(line.slice(2));
    if (match && line.startsWith('a=')) return match[1] === '*' ? undefined : match[1];
  }
  return undefined;
}

/** A copy of the section keeping only `payloads`, in that order, and their attribute lines. */
export function keepPayloads(section: MediaSection, payloads: readonly string[]): MediaSection {
  const kept = new Set(payloads);
  return {
    media: { ...section.media, formats: [...payloads] },
    lines: section.lines.filter((line) => {
      const payload = payloadOf(line);
      return payload === undefined || kept.has(payload);
    }),
  };
}
