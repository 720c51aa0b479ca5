import { RULES } from './sdp-lines.js';

/**
 * A fix for a known interop problem: lines to drop from the SDP, codecs to leave out, or both.
 */
interface InteropFix {
  /** What goes wrong without it, and where it was seen. */
  why: string;
  /** Drops every SDP line (session or media) for which this is true. */
  dropLine?: (line: string) => boolean;
  /** Codec names (as in rtpmap) removed with all their attribute lines. */
  dropCodecs?: readonly string[];
}

function isMdnsCandidate(line: string): boolean {
  const candidate = line.startsWith('a=') ? RULES.candidate.exec(line.slice(2)) : null;
  return candidate !== null && (candidate[5] as string).toLowerCase().endsWith('.local');
}

/** Named fixes, as data; a policy lists the ones a route needs. */
export const INTEROP_FIXES = {
  'strip-mdns-candidates': {
    why: 'Browsers hide host addresses behind random `.local` names (RFC 8828); a PBX or rtpengine cannot resolve them and wastes ICE checks on them or rejects the SDP.',
    dropLine: isMdnsCandidate,
  },
  'remove-extmap-allow-mixed': {
    why: 'Chrome 89+ offers `a=extmap-allow-mixed` (RFC 8285); older Asterisk (before 16.17/18.3) answers such an offer with 488.',
    dropLine: (line) => line === 'a=extmap-allow-mixed',
  },
  'drop-red-ulpfec': {
    why: 'Redundant audio (RFC 2198 red) and ulpfec are browser-to-browser features; a PBX that accepts them may then mishandle the payloads, so they are not offered to one.',
    dropCodecs: ['red', 'ulpfec'],
  },
} satisfies Record<string, InteropFix>;

export type InteropFixName = keyof typeof INTEROP_FIXES;

export function interopFix(name: InteropFixName): InteropFix {
  return INTEROP_FIXES[name];
}
