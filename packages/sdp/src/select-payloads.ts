import { COMPANION_CODECS } from './codec-key.js';
import type { ResolvedPolicy } from './codec-policy.js';
import { interopFix } from './interop-fixes.js';
import { type PayloadCodec, payloadCodecs } from './payloads.js';
import type { MediaSection } from './sdp-lines.js';

export interface Selection {
  /** Payload types to keep, in the order to offer them. */
  payloads: string[];
  /** Audio codecs (not companions) of the section before selection. */
  offered: string[];
  /** Audio codecs kept, in order. */
  kept: string[];
}

function rank(preferences: readonly string[], key: string): number {
  const index = preferences.indexOf(key);
  return index === -1 ? preferences.length : index;
}

/**
 * Chooses the payloads of an audio section under a policy. `peer` restricts the choice to the
 * codecs the other side offered (for an answer, RFC 3264 §6.1). Companions stay only with what
 * they accompany: telephone-event and CN at the clock rates of the kept codecs, red when the
 * payloads it carries are kept, rtx when its apt is kept.
 */
export function selectPayloads(
  section: MediaSection,
  policy: ResolvedPolicy,
  peer?: ReadonlySet<string>,
): Selection {
  const codecs = payloadCodecs(section);
  const dropped = new Set(policy.fixes.flatMap((fix) => interopFix(fix).dropCodecs ?? []));
  const usable = (codec: PayloadCodec) => !dropped.has(codec.name) && (!peer || peer.has(codec.key));
  const primary = codecs.filter((c) => !COMPANION_CODECS.has(c.name));
  const chosen = primary
    .filter(
      (c) => usable(c) && (!policy.allow || policy.allow.includes(c.key)) && !policy.deny.includes(c.key),
    )
    .sort((a, b) => rank(policy.preferences, a.key) - rank(policy.preferences, b.key));
  const keptPayloads = new Set(chosen.map((c) => c.payload));
  const clocks = new Set(chosen.map((c) => c.clock));
  const companions = codecs.filter((codec) => {
    if (!COMPANION_CODECS.has(codec.name) || !usable(codec) || chosen.length === 0) return false;
    switch (codec.name) {
      case 'telephone-event':
        return policy.telephoneEvent && clocks.has(codec.clock);
      case 'CN':
        return policy.comfortNoise && clocks.has(codec.clock);
      case 'red':
        return (codec.fmtp ?? '').split('/').every((payload) => keptPayloads.has(payload.trim()));
      case 'rtx':
        return keptPayloads.has(/apt=(\d+)/.exec(codec.fmtp ?? '')?.[1] ?? '');
      default:
        return true;
    }
  });
  // Primaries take the slots of primaries in preference order; companions keep their places, so
  // a policy that changes nothing leaves the m-line as it was.
  const kept = new Set([...chosen, ...companions]);
  let next = 0;
  const payloads = codecs
    .filter((c) => kept.has(c))
    .map((c) => (COMPANION_CODECS.has(c.name) ? c.payload : (chosen[next++] as PayloadCodec).payload));
  return {
    payloads,
    offered: primary.map((c) => c.key),
    kept: chosen.map((c) => c.key),
  };
}
