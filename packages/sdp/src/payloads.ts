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

function readPayloadCodecs(section: MediaSection): PayloadCodec[] {
  const rtpmap = new Map<string, NamedCodec>();
  const fmtp = new Map<string, string>();
  for (const line of section.lines) {
    // The prefixes first: the rules' regular expressions are the costly part, on every line.
    if (line.startsWith('a=rtpmap:')) {
      const map = RULES.rtpmap.exec(line.slice(2));
      if (map) {
        const key = codecKey(map[2] as string, Number(map[3]), map[4] ? Number(map[4]) : undefined);
        rtpmap.set(map[1] as string, named(key));
      }
    } else if (line.startsWith('a=fmtp:')) {
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
