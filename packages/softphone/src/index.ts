export { type BackoffOptions, backoffDelay } from './backoff.js';
export {
  Call,
  type CallQualityReport,
  type CallTimeouts,
  DEFAULT_CALL_TIMEOUTS,
  type DtmfMethod,
} from './call.js';
export { estimateMos, type QualitySample, summarizeQuality } from './call-quality.js';
export type { Reconnect } from './call-recovery.js';
export { CALL_TRANSITIONS, CallState, isFinal } from './call-state.js';
export type { EndReason } from './failure-reason.js';
export {
  expectedCandidateTypes,
  fastIceSessionDescriptionHandlerFactory,
  type Gathering,
  offerWaitMs,
} from './fast-ice.js';
export { type MessageSummary, readMessageSummary } from './message-summary.js';
export {
  type MediaObservation,
  type MediaWarning,
  type MediaWarningCause,
  type MediaWarningKind,
  OneWayAudioDetector,
} from './one-way-audio.js';
export { type ChatMessage, Phone, type PhoneOptions, type PresenceChange } from './phone.js';
export {
  type ContactPresence,
  contactPresence,
  type PresenceReport,
  pickupReplaces,
  type RingingCall,
} from './presence.js';
export { REGISTRATION_TRANSITIONS, RegistrationState } from './registration-state.js';
export { RENEWAL_BACKOFF, renewalEndsSignIn, type SignInIdentity, signInIdentity } from './sign-in.js';
export { requestOutcome, SipRefusal } from './sip-refusal.js';
export { StateMachine, StateTransitionError } from './state-machine.js';
export { DEFAULT_STUN_ANSWER_MS, StunProbe, type StunVerdict, stunServers } from './stun-probe.js';
export { DEFAULT_WARM_MICROPHONE_MS } from './warm-microphone.js';
export { WATERFALL_STEPS, Waterfall, type WaterfallStep } from './waterfall.js';
