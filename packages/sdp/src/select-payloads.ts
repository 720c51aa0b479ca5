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

const NONE: ReadonlySet<string> = new Set();

/** Codec names the policy's interop fixes leave out (none for most routes: no set to make). */
function droppedCodecs(policy: ResolvedPolicy): ReadonlySet<string> {
  return policy.fixes.length === 0
    ? NONE
    : new Set(policy.fixes.flatMap((fix) => interopFix(fix).dropCodecs ?? []));
}

/** Whether a companion stays with the primaries chosen (at their clock rates, with their payloads). */
function companionKept(
  codec: PayloadCodec,
  policy: ResolvedPolicy,
  chosen: readonly PayloadCodec[],
): boolean {
  switch (codec.name) {
    case 'telephone-event':
      return policy.telephoneEvent && chosen.some((c) => c.clock === codec.clock);
    case 'CN':
      return policy.comfortNoise && chosen.some((c) => c.clock === codec.clock);
    case 'red':
      return (codec.fmtp ?? '')
        .split('/')
        .every((payload) => chosen.some((c) => c.payload === payload.trim()));
    case 'rtx': {
      const apt = /apt=(\d+)/.exec(codec.fmtp ?? '')?.[1];
      return chosen.some((c) => c.payload === apt);
    }
    default:
      return true;
  }
}

/**
 * Chooses the payloads of an audio section under a policy. `peer` restricts the choice to the
 * codecs the other side offered (for an answer, RFC 3264 §6.1). Companions stay only with what
 * they accompany: telephone-event and CN at the clock rates of the kept codecs, red when the
 * payloads it carries are kept, rtx when its apt is kept. Every offer and answer of every call
 * is selected here, so it walks the section's few codecs in loops rather than building sets.
 */
export function selectPayloads(
  section: MediaSection,
  policy: ResolvedPolicy,
  peer?: ReadonlySet<string>,
): Selection {
  const codecs = payloadCodecs(section);
  const dropped = droppedCodecs(policy);
  const usable = (codec: PayloadCodec) => !dropped.has(codec.name) && (!peer || peer.has(codec.key));
  const offered: string[] = [];
  const chosen: PayloadCodec[] = [];
  for (const codec of codecs) {
    if (COMPANION_CODECS.has(codec.name)) continue;
    offered.push(codec.key);
    if (
      usable(codec) &&
      (!policy.allow || policy.allow.includes(codec.key)) &&
      !policy.deny.includes(codec.key)
    )
      chosen.push(codec);
  }
  if (policy.preferences.length > 0)
    chosen.sort((a, b) => rank(policy.preferences, a.key) - rank(policy.preferences, b.key));
  // Primaries take the slots of primaries in preference order; companions keep their places, so
  // a policy that changes nothing leaves the m-line as it was.
  const payloads: string[] = [];
  let next = 0;
  for (const codec of codecs) {
    if (!COMPANION_CODECS.has(codec.name)) {
      if (chosen.includes(codec)) payloads.push((chosen[next++] as PayloadCodec).payload);
    } else if (chosen.length > 0 && usable(codec) && companionKept(codec, policy, chosen)) {
      payloads.push(codec.payload);
    }
  }
  return { payloads, offered, kept: chosen.map((c) => c.key) };
}
