export {
  applyToAnswer,
  applyToAnswerWithCodec,
  applyToOffer,
  applyToOfferReading,
  commonCodecs,
  emptyPolicy,
  negotiatedCodec,
  type OfferedCodecs,
} from './apply-policy.js';
export { codecKey, normaliseCodec } from './codec-key.js';
export type { CodecPolicy, OpusParameters, ResolvedPolicy } from './codec-policy.js';
export { resolvePolicy } from './codec-policy.js';
export { answerAsDtlsServer } from './dtls-setup.js';
export { InvalidSdpError, NoCommonCodecError, PolicyError } from './errors.js';
export { INTEROP_FIXES, type InteropFixName } from './interop-fixes.js';
export { codecPolicyModifier, type DescriptionModifier } from './sdh-modifier.js';
