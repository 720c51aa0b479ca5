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

/** Splits SDP text into sections; throws on text without a v= line or with an unreadable m-line. */
export function readSdp(text: string): SdpDocument {
  // SDP's line end is CRLF (RFC 4566 §5): split there without a regular expression, unless a
  // bare LF is left in a line.
  const crlf = text.split('\r\n');
  const lines = (crlf.some((line) => line.includes('\n')) ? text.split(/\r?\n/) : crlf).filter(
    (line) => line.length > 0,
  );
  if (!lines[0]?.startsWith('v=')) throw new InvalidSdpError('not an SDP: it must start with v=');
  const document: SdpDocument = { session: [], media: [] };
  for (const line of lines) {
    if (line.startsWith('m=')) {
      const media = parseMediaLine(line);
      if (!media) throw new InvalidSdpError(`unreadable m-line "${line}"`);
      document.media.push({ media, lines: [] });
    } else {
      const current = document.media[document.media.length - 1];
      (current ? current.lines : document.session).push(line);
    }
  }
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
