import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import sdpTransform from 'sdp-transform';
import {
  applyToAnswer,
  applyToAnswerWithCodec,
  applyToOffer,
  NoCommonCodecError,
  negotiatedCodec,
  resolvePolicy,
} from '../src/index.js';
import { audioCodecs, FIXTURE_NAMES, fixture, iceAndDtlsLines } from './support.js';

const CODECS = ['opus', 'G722/8000', 'PCMU/8000', 'PCMA/8000', 'G729/8000'];
const FIXES = ['strip-mdns-candidates', 'remove-extmap-allow-mixed', 'drop-red-ulpfec'] as const;

const policies = fc
  .record(
    {
      preferences: fc.shuffledSubarray(CODECS),
      allow: fc.option(fc.shuffledSubarray(CODECS, { minLength: 1 }), { nil: undefined }),
      deny: fc.shuffledSubarray(CODECS, { maxLength: 2 }),
      telephoneEvent: fc.boolean(),
      comfortNoise: fc.boolean(),
      audioOnly: fc.boolean(),
      ptime: fc.option(fc.constantFrom(10, 20, 30, 60), { nil: undefined }),
      fixes: fc.subarray([...FIXES]),
    },
    { requiredKeys: [] },
  )
  .map((p) => resolvePolicy(p));

const fixtures = fc.constantFrom(...FIXTURE_NAMES).map(fixture);

/** Applies, treating "no common codec" as a legitimate outcome. */
function attempt(run: () => string): string | undefined {
  try {
    return run();
  } catch (error) {
    if (error instanceof NoCommonCodecError) return undefined;
    throw error;
  }
}

describe('properties over real SDPs and generated policies', () => {
  it('every output parses, keeps the m-line count and leaves ICE/DTLS lines alone (mDNS fix aside)', () => {
    fc.assert(
      fc.property(fixtures, policies, (sdp, policy) => {
        const out = attempt(() => applyToOffer(sdp, policy));
        if (out === undefined) return;
        const parsed = sdpTransform.parse(out);
        expect(parsed.media).toHaveLength(sdpTransform.parse(sdp).media.length);
        const keepsCandidates = (lines: string[]) =>
          policy.fixes.includes('strip-mdns-candidates')
            ? lines.filter((l) => !l.includes('.local '))
            : lines;
        expect(iceAndDtlsLines(out)).toEqual(keepsCandidates(iceAndDtlsLines(sdp)));
      }),
      { numRuns: 300 },
    );
  });

  it('an answer never carries an audio codec its offer did not', () => {
    const answers = fc.constantFrom(
      'chromium-audio-answer.sdp',
      'asterisk-answer.sdp',
      'rtpengine-answer-to-browser.sdp',
    );
    fc.assert(
      fc.property(policies, policies, answers, (offerPolicy, answerPolicy, answerName) => {
        const offer = attempt(() => applyToOffer(fixture('chromium-audio-offer.sdp'), offerPolicy));
        if (offer === undefined) return;
        const answer = attempt(() => applyToAnswer(offer, fixture(answerName), answerPolicy));
        if (answer === undefined) return;
        const offered = new Set(audioCodecs(offer));
        for (const codec of audioCodecs(answer)) expect(offered).toContain(codec);
      }),
      { numRuns: 300 },
    );
  });

  it("applyToAnswerWithCodec's codec is negotiatedCodec of the answer it writes (taken from the policy's selection, not read again)", () => {
    const pairs = fc.constantFrom(
      ['chromium-audio-offer.sdp', 'chromium-audio-answer.sdp'],
      ['chromium-audio-offer.sdp', 'asterisk-answer.sdp'],
      ['chromium-audio-offer.sdp', 'rtpengine-answer-to-browser.sdp'],
      ['chromium-audio-video-data-offer.sdp', 'chromium-audio-video-data-offer.sdp'],
      ['rtpengine-offer-to-pbx.sdp', 'asterisk-answer.sdp'],
      ['firefox-audio-offer.sdp', 'chromium-audio-answer.sdp'],
      ['baresip-offer.sdp', 'chromium-audio-answer.sdp'],
    );
    fc.assert(
      fc.property(policies, policies, pairs, (offerPolicy, answerPolicy, [offerName, answerName]) => {
        const offer = attempt(() => applyToOffer(fixture(offerName), offerPolicy));
        if (offer === undefined) return;
        let result: { sdp: string; codec: string | undefined } | undefined;
        try {
          result = applyToAnswerWithCodec(offer, fixture(answerName), answerPolicy);
        } catch (error) {
          if (error instanceof NoCommonCodecError) return;
          throw error;
        }
        expect(result.codec).toBe(negotiatedCodec(offer, result.sdp));
      }),
      { numRuns: 500 },
    );
  });
});
