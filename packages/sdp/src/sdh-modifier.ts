import { applyToOffer } from './apply-policy.js';
import type { ResolvedPolicy } from './codec-policy.js';

/** The shape of a SIP.js SessionDescriptionHandlerModifier, without depending on SIP.js. */
export type DescriptionModifier = (
  description: RTCSessionDescriptionInit,
) => Promise<RTCSessionDescriptionInit>;

/**
 * A SIP.js `SessionDescriptionHandlerModifier` that applies a policy to the browser's own offers
 * and answers. An answer filtered this way stays within the remote offer because the browser's
 * answer already did and the policy only removes and reorders. Rejects with NoCommonCodecError
 * when nothing is left, which SIP.js turns into a failed call (488 for an incoming one).
 */
export function codecPolicyModifier(policy: ResolvedPolicy): DescriptionModifier {
  return async (description) =>
    description.sdp === undefined
      ? description
      : { ...description, sdp: applyToOffer(description.sdp, policy) };
}
