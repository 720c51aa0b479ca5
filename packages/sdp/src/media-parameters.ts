import sdpTransform from 'sdp-transform';
import type { ResolvedPolicy } from './codec-policy.js';
import { payloadCodecs } from './payloads.js';
import type { MediaSection } from './sdp-lines.js';

/** Writes a line of type `prefix` in place of the existing one, or adds it where `insertAt` says. */
function setLine(
  lines: string[],
  prefix: string,
  value: string,
  insertAt: (lines: string[]) => number,
): string[] {
  const line = `${prefix}${value}`;
  const at = lines.findIndex((l) => l.startsWith(prefix));
  if (at !== -1) return lines.map((l, i) => (i === at ? line : l));
  const position = insertAt(lines);
  return [...lines.slice(0, position), line, ...lines.slice(position)];
}

const atEnd = (lines: string[]) => lines.length;
/** RFC 4566 §5: b= comes after i= and c= and before k= and a=. */
const afterConnection = (lines: string[]) => {
  const lastHeader = lines.findLastIndex((l) => /^[icb]=/.test(l));
  return lastHeader + 1;
};

function fmtpValue(existing: string | undefined, opus: NonNullable<ResolvedPolicy['opus']>): string {
  const params: Record<string, string | number | undefined> = existing
    ? sdpTransform.parseParams(existing)
    : {};
  for (const [name, value] of Object.entries(opus)) {
    if (value !== undefined) params[name] = typeof value === 'boolean' ? Number(value) : value;
  }
  return Object.entries(params)
    .map(([name, value]) => `${name}=${value}`)
    .join(';');
}

/** Applies the policy's opus fmtp, ptime, maxptime and bandwidth to an audio section. */
export function applyMediaParameters(section: MediaSection, policy: ResolvedPolicy): MediaSection {
  let lines = section.lines;
  if (policy.opus) {
    for (const codec of payloadCodecs(section)) {
      if (codec.key !== 'opus/48000/2') continue;
      lines = setLine(lines, `a=fmtp:${codec.payload} `, fmtpValue(codec.fmtp, policy.opus), (l) => {
        const rtpmap = l.findIndex((x) => x.startsWith(`a=rtpmap:${codec.payload} `));
        return rtpmap === -1 ? l.length : rtpmap + 1;
      });
    }
  }
  if (policy.ptime !== undefined) lines = setLine(lines, 'a=ptime:', String(policy.ptime), atEnd);
  if (policy.maxptime !== undefined) lines = setLine(lines, 'a=maxptime:', String(policy.maxptime), atEnd);
  if (policy.bandwidth?.as !== undefined)
    lines = setLine(lines, 'b=AS:', String(policy.bandwidth.as), afterConnection);
  if (policy.bandwidth?.tias !== undefined) {
    lines = setLine(lines, 'b=TIAS:', String(policy.bandwidth.tias), afterConnection);
  }
  return { ...section, lines };
}
