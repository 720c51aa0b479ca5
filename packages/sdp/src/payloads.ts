import { codecKey, STATIC_PAYLOAD_TYPES } from './codec-key.js';
import { type MediaSection, RULES } from './sdp-lines.js';

export interface PayloadCodec {
  payload: string;
  key: string;
  /** The fmtp parameters as written, if there is an fmtp line. */
  fmtp: string | undefined;
}

/** The codecs of an RTP m-line, in the m-line's order (static payload types included). */
export function payloadCodecs(section: MediaSection): PayloadCodec[] {
  const rtpmap = new Map<string, string>();
  const fmtp = new Map<string, string>();
  for (const line of section.lines) {
    if (!line.startsWith('a=')) continue;
    const map = RULES.rtpmap.exec(line.slice(2));
    if (map) {
      rtpmap.set(
        map[1] as string,
        codecKey(map[2] as string, Number(map[3]), map[4] ? Number(map[4]) : undefined),
      );
      continue;
    }
    const parameters = RULES.fmtp.exec(line.slice(2));
    if (parameters) fmtp.set(parameters[1] as string, parameters[2] as string);
  }
  return section.media.formats.flatMap((payload) => {
    const key = rtpmap.get(payload) ?? STATIC_PAYLOAD_TYPES[Number(payload)];
    return key ? [{ payload, key, fmtp: fmtp.get(payload) }] : [];
  });
}

/** The payload a payload-specific attribute line (rtpmap, fmtp, rtcp-fb) is about, if it is one. */
function payloadOf(line: string): string | undefined {
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
