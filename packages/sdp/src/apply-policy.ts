import type { ResolvedPolicy } from './codec-policy.js';
import { InvalidSdpError, NoCommonCodecError } from './errors.js';
import { interopFix } from './interop-fixes.js';
import { applyMediaParameters } from './media-parameters.js';
import { keepPayloads, payloadCodecs } from './payloads.js';
import { attribute, type MediaSection, RULES, readSdp, type SdpDocument, writeSdp } from './sdp-lines.js';
import { selectPayloads } from './select-payloads.js';

const isAudio = (section: MediaSection) => section.media.type === 'audio';
const isActive = (section: MediaSection) => section.media.port !== 0;

function applyFixes(document: SdpDocument, policy: ResolvedPolicy): SdpDocument {
  const drops = policy.fixes.flatMap((name) => interopFix(name).dropLine ?? []);
  if (drops.length === 0) return document;
  const keep = (line: string) => !drops.some((drop) => drop(line));
  return {
    session: document.session.filter(keep),
    media: document.media.map((section) => ({ ...section, lines: section.lines.filter(keep) })),
  };
}

/** A refused stream keeps its m-line with port 0 (RFC 3264 §6, §8.2) and leaves the BUNDLE group (RFC 8843 §7.3.3). */
function refuse(document: SdpDocument, index: number): SdpDocument {
  const section = document.media[index] as MediaSection;
  const mid = attribute(section.lines, 'mid');
  const session =
    mid === undefined
      ? document.session
      : document.session.map((line) => {
          const group = line.startsWith('a=') ? RULES.group.exec(line.slice(2)) : null;
          if (!group || group[1] !== 'BUNDLE') return line;
          return `a=group:BUNDLE ${(group[2] as string)
            .split(' ')
            .filter((m) => m !== mid)
            .join(' ')}`.trimEnd();
        });
  const media = document.media.map((s, i) => (i === index ? { ...s, media: { ...s.media, port: 0 } } : s));
  return { session, media };
}

/**
 * Whether a policy can change a section only by choosing its payloads: no interop fixes, no
 * parameters to write, no streams refused for not being audio. Under such a policy a section
 * whose selection keeps every payload in place is left as it is, and an SDP with nothing to
 * change is passed on as it came — the browser route's default, on every offer and answer.
 */
function choosesPayloadsOnly(policy: ResolvedPolicy): boolean {
  return (
    policy.fixes.length === 0 &&
    !policy.audioOnly &&
    policy.opus === undefined &&
    policy.ptime === undefined &&
    policy.maxptime === undefined &&
    policy.bandwidth === undefined
  );
}

const samePayloads = (section: MediaSection, payloads: readonly string[]) =>
  payloads.length === section.media.formats.length &&
  payloads.every((payload, i) => payload === section.media.formats[i]);

/** What applyPolicy made of a document, and whether it changed anything at all. */
interface Policed {
  document: SdpDocument;
  firstCodec: string | undefined;
  changed: boolean;
}

/**
 * Applies a policy to every audio section and refuses the others when the policy is audio-only.
 * `peerOf(index)` gives the codecs the other side offered for that section (for answers). With
 * the document, the first codec kept in the first audio stream left active: it leads its m-line
 * (selectPayloads puts the kept codecs in the primaries' slots, in order), so for an answer it is
 * negotiatedCodec's codec without reading the answer again.
 */
function applyPolicy(
  document: SdpDocument,
  policy: ResolvedPolicy,
  peerOf: (index: number) => ReadonlySet<string> | undefined,
): Policed {
  let result = applyFixes(document, policy);
  const untouchedWhenKept = choosesPayloadsOnly(policy);
  let changed = result !== document;
  const offered: string[] = [];
  let audioKept = 0;
  let firstCodec: string | undefined;
  result.media.forEach((section, index) => {
    if (!isActive(section)) return;
    if (!isAudio(section)) {
      if (policy.audioOnly) {
        result = refuse(result, index);
        changed = true;
      }
      return;
    }
    const selection = selectPayloads(section, policy, peerOf(index));
    offered.push(...selection.offered);
    if (selection.kept.length === 0) {
      result = refuse(result, index);
      changed = true;
      return;
    }
    audioKept += 1;
    firstCodec ??= selection.kept[0];
    if (untouchedWhenKept && samePayloads(section, selection.payloads)) return;
    const chosen = applyMediaParameters(keepPayloads(section, selection.payloads), policy);
    result = { ...result, media: result.media.map((s, i) => (i === index ? chosen : s)) };
    changed = true;
  });
  const hadAudio = document.media.some((s) => isAudio(s) && isActive(s));
  if (hadAudio && audioKept === 0) {
    throw new NoCommonCodecError([...new Set(offered)], policy.allow ?? policy.preferences);
  }
  return { document: result, firstCodec, changed };
}

/** The SDP a policy made: the text it came as when nothing changed, else the document written anew. */
const written = (sdp: string, policed: Policed) => (policed.changed ? writeSdp(policed.document) : sdp);

/**
 * What an answer is held to, of the offer it answers: for each m-line, the codecs offered, or
 * undefined for a stream the offer refused (port 0). applyToOfferReading hands it out with the
 * offer, so that whoever keeps the offer for its answer need not read it again.
 */
export type OfferedCodecs = ReadonlyArray<ReadonlySet<string> | undefined>;

function offeredCodecs(offer: SdpDocument): OfferedCodecs {
  return offer.media.map((section) =>
    isActive(section) ? new Set(payloadCodecs(section).map((c) => c.key)) : undefined,
  );
}

const offerOf = (offer: string | OfferedCodecs) =>
  typeof offer === 'string' ? offeredCodecs(readSdp(offer)) : offer;

/** Applies the policy to an SDP offer: codecs filtered and ordered, streams refused, parameters set. */
export function applyToOffer(sdp: string, policy: ResolvedPolicy): string {
  return written(
    sdp,
    applyPolicy(readSdp(sdp), policy, () => undefined),
  );
}

/** applyToOffer, and what the offer it returns holds its answer to: the offer read once for both. */
export function applyToOfferReading(
  sdp: string,
  policy: ResolvedPolicy,
): { sdp: string; offered: OfferedCodecs } {
  const policed = applyPolicy(readSdp(sdp), policy, () => undefined);
  return { sdp: written(sdp, policed), offered: offeredCodecs(policed.document) };
}

/**
 * Applies the policy to an answer, keeping it within what the offer allowed (RFC 3264 §6):
 * only codecs the offer carried, and no stream the offer refused.
 */
export function applyToAnswer(offer: string | OfferedCodecs, answer: string, policy: ResolvedPolicy): string {
  return written(answer, answerUnderPolicy(offerOf(offer), readSdp(answer), policy));
}

/**
 * applyToAnswer, and negotiatedCodec of the offer and the answer it returns, each SDP read once:
 * what a proxy does with every answer it passes on.
 */
export function applyToAnswerWithCodec(
  offer: string | OfferedCodecs,
  answer: string,
  policy: ResolvedPolicy,
): { sdp: string; codec: string | undefined } {
  const policed = answerUnderPolicy(offerOf(offer), readSdp(answer), policy);
  return { sdp: written(answer, policed), codec: policed.firstCodec };
}

function answerUnderPolicy(offered: OfferedCodecs, answered: SdpDocument, policy: ResolvedPolicy): Policed {
  if (offered.length !== answered.media.length) {
    throw new InvalidSdpError(
      `the answer has ${answered.media.length} m-lines but the offer had ${offered.length} (RFC 3264 §6)`,
    );
  }
  let result = answered;
  offered.forEach((codecs, index) => {
    if (codecs === undefined && isActive(result.media[index] as MediaSection)) result = refuse(result, index);
  });
  const policed = applyPolicy(result, policy, (index) => offered[index]);
  return { ...policed, changed: policed.changed || result !== answered };
}

/** The audio codecs of an SDP that the policy allows, in the policy's order of preference. */
export function commonCodecs(sdp: string, policy: ResolvedPolicy): string[] {
  const document = readSdp(sdp);
  const kept = document.media
    .filter((s) => isAudio(s) && isActive(s))
    .flatMap((s) => selectPayloads(s, policy).kept);
  return [...new Set(kept)];
}

/**
 * The codec a call will use: the first audio codec of the answer's first active audio stream that
 * the offer also carried (RFC 3264 §6.1: the answerer lists its preference first).
 */
export function negotiatedCodec(offer: string, answer: string): string | undefined {
  const answered = readSdp(answer);
  const index = answered.media.findIndex((s) => isAudio(s) && isActive(s));
  if (index === -1) return undefined;
  const inOffer = offerOf(offer)[index] ?? new Set<string>();
  return selectPayloads(answered.media[index] as MediaSection, emptyPolicy(), inOffer).kept[0];
}

/** A policy that changes nothing: every codec allowed, no parameters, no fixes. */
export function emptyPolicy(): ResolvedPolicy {
  return {
    preferences: [],
    allow: undefined,
    deny: [],
    telephoneEvent: true,
    comfortNoise: true,
    opus: undefined,
    ptime: undefined,
    maxptime: undefined,
    audioOnly: false,
    bandwidth: undefined,
    fixes: [],
  };
}
