import sdpTransform from 'sdp-transform';
import { InvalidSdpError } from './errors.js';

/**
 * SDP as lines grouped into the session part and one section per m-line. The policy rewrites
 * only the lines it is about (m=, rtpmap, fmtp, rtcp-fb, ptime, b=, BUNDLE) and passes every
 * other line through byte for byte, so ICE and DTLS lines cannot be disturbed by a round trip
 * through a parser; the lines it does read are read with sdp-transform's grammar.
 */
export interface MediaLine {
  type: string;
  port: number;
  protocol: string;
  /** Payload types (or the format list of non-RTP media) in order. */
  formats: string[];
}

export interface MediaSection {
  media: MediaLine;
  /** The lines after the m-line, in order. */
  lines: string[];
}

export interface SdpDocument {
  session: string[];
  media: MediaSection[];
}

/** sdp-transform's grammar table (lib/grammar.js), which its type declarations leave out. */
interface GrammarRule {
  name?: string;
  push?: string;
  reg?: RegExp;
}
const grammar = (sdpTransform as unknown as { grammar: Record<string, GrammarRule[]> }).grammar;

const M_LINE = grammar.m?.[0]?.reg ?? /^(\w*) (\d*) ([\w/]*)(?: (.*))?/;

function grammarRule(push: string): RegExp {
  const rule = grammar.a?.find((g) => g.push === push || g.name === push);
  if (!rule?.reg) throw new Error(`sdp-transform has no grammar rule ${push}`);
  return rule.reg as RegExp;
}

/** sdp-transform's rules for the attribute lines the policy reads (without the `a=` prefix). */
export const RULES = {
  rtpmap: grammarRule('rtp'),
  fmtp: grammarRule('fmtp'),
  rtcpFb: grammarRule('rtcpFb'),
  group: grammarRule('groups'),
  mid: grammarRule('mid'),
  candidate: grammarRule('candidates'),
};

export function parseMediaLine(line: string): MediaLine | undefined {
  const match = M_LINE.exec(line.slice(2));
  if (!match) return undefined;
  return {
    type: match[1] as string,
    port: Number(match[2]),
    protocol: match[3] as string,
    formats: (match[4] ?? '').split(' ').filter(Boolean),
  };
}

function writeMediaLine(media: MediaLine): string {
  return `m=${media.type} ${media.port} ${media.protocol} ${media.formats.join(' ')}`;
}

const CR = 13;

/** Splits SDP text into sections; throws on text without a v= line or with an unreadable m-line. */
export function readSdp(text: string): SdpDocument {
  const document: SdpDocument = { session: [], media: [] };
  let into = document.session;
  // One pass, line by line: SDP's line end is CRLF (RFC 4566 §5), a bare LF is taken too, and
  // empty lines are dropped. Every offer and answer of every call is read here.
  for (let start = 0; start < text.length; ) {
    const lf = text.indexOf('\n', start);
    const next = lf === -1 ? text.length : lf + 1;
    const end = lf === -1 ? text.length : lf > start && text.charCodeAt(lf - 1) === CR ? lf - 1 : lf;
    if (end > start) {
      const line = text.slice(start, end);
      if (document.session.length === 0 && !line.startsWith('v='))
        throw new InvalidSdpError('not an SDP: it must start with v=');
      if (line.startsWith('m=')) {
        const media = parseMediaLine(line);
        if (!media) throw new InvalidSdpError(`unreadable m-line "${line}"`);
        const section: MediaSection = { media, lines: [] };
        document.media.push(section);
        into = section.lines;
      } else into.push(line);
    }
    start = next;
  }
  if (document.session.length === 0) throw new InvalidSdpError('not an SDP: it must start with v=');
  return document;
}

export function writeSdp(document: SdpDocument): string {
  const lines = [...document.session];
  for (const section of document.media) lines.push(writeMediaLine(section.media), ...section.lines);
  return `${lines.join('\r\n')}\r\n`;
}

/** The value of the first `a=<name>:` attribute line, or undefined. */
export function attribute(lines: readonly string[], name: string): string | undefined {
  const prefix = `a=${name}:`;
  return lines.find((line) => line.startsWith(prefix))?.slice(prefix.length);
}
