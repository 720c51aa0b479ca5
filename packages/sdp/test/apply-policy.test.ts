import { describe, expect, it } from '@jest/globals';
import sdpTransform from 'sdp-transform';
import {
  applyToAnswer,
  applyToAnswerWithCodec,
  applyToOffer,
  applyToOfferReading,
  codecPolicyModifier,
  commonCodecs,
  NoCommonCodecError,
  negotiatedCodec,
  resolvePolicy,
} from '../src/index.js';
import { audioCodecs, FIXTURE_NAMES, fixture, iceAndDtlsLines } from './support.js';

const chromeOffer = fixture('chromium-audio-offer.sdp');
const chromeAnswer = fixture('chromium-audio-answer.sdp');
const avOffer = fixture('chromium-audio-video-data-offer.sdp');
const firefoxOffer = fixture('firefox-audio-offer.sdp');
const g711Only = resolvePolicy({ allow: ['PCMU', 'PCMA'], preferences: ['PCMA/8000'] });

describe('applyToOffer', () => {
  it('keeps only allowed codecs in preference order, with telephone-event and CN at their clock', () => {
    const out = applyToOffer(chromeOffer, g711Only);
    expect(audioCodecs(out)).toEqual(['PCMA/8000', 'PCMU/8000', 'CN/8000', 'telephone-event/8000']);
    expect(out).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 8 0 13 126$/m);
    expect(out).not.toMatch(/opus|red\/|G722|telephone-event\/48000|a=fmtp:111|a=rtcp-fb:111/);
  });

  it('keeps telephone-event/48000 with opus and drops the 8000 one when only opus remains', () => {
    const out = applyToOffer(chromeOffer, resolvePolicy({ allow: ['opus'] }));
    expect(audioCodecs(out)).toEqual(['opus/48000', 'red/48000', 'telephone-event/48000']);
  });

  it('sets opus fmtp, ptime, maxptime and bandwidth', () => {
    const out = applyToOffer(
      chromeOffer,
      resolvePolicy({
        opus: {
          usedtx: true,
          useinbandfec: false,
          maxaveragebitrate: 32000,
          stereo: false,
          maxplaybackrate: 16000,
        },
        ptime: 20,
        maxptime: 60,
        bandwidth: { as: 64, tias: 64000 },
      }),
    );
    const audio = sdpTransform.parse(out).media[0];
    expect(audio?.fmtp.find((f) => f.payload === 111)?.config).toBe(
      'minptime=10;useinbandfec=0;usedtx=1;maxaveragebitrate=32000;stereo=0;maxplaybackrate=16000',
    );
    expect(audio).toMatchObject({ ptime: 20, maxptime: 60 });
    expect(audio?.bandwidth).toEqual([
      { type: 'AS', limit: 64 },
      { type: 'TIAS', limit: 64000 },
    ]);
  });

  it('refuses video and data with port 0, keeps their m-lines and takes them out of BUNDLE', () => {
    const out = sdpTransform.parse(applyToOffer(avOffer, resolvePolicy({})));
    expect(out.media.map((m) => [m.type, m.port === 0])).toEqual([
      ['audio', false],
      ['video', true],
      ['application', true],
    ]);
    expect(out.groups?.map((g) => [g.type, String(g.mids)])).toEqual([['BUNDLE', '0']]);
  });

  it('leaves video alone when the policy is not audio-only', () => {
    const out = applyToOffer(avOffer, resolvePolicy({ audioOnly: false }));
    expect(sdpTransform.parse(out).media.every((m) => m.port !== 0)).toBe(true);
  });

  it('throws NoCommonCodecError listing what was offered and what was allowed', () => {
    expect.assertions(3);
    try {
      applyToOffer(chromeOffer, resolvePolicy({ allow: ['G729'] }));
    } catch (error) {
      expect(error).toBeInstanceOf(NoCommonCodecError);
      expect((error as NoCommonCodecError).offered).toEqual([
        'opus/48000/2',
        'G722/8000',
        'PCMU/8000',
        'PCMA/8000',
      ]);
      expect((error as NoCommonCodecError).allowed).toEqual(['G729/8000']);
    }
  });

  it('reads static payload types without rtpmap and Firefox’s explicit channel count', () => {
    expect(commonCodecs(firefoxOffer, resolvePolicy({ preferences: ['G722/8000'] }))).toEqual([
      'G722/8000',
      'opus/48000/2',
      'PCMU/8000',
      'PCMA/8000',
    ]);
    const bareStatic =
      'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8 0 18\r\n';
    expect(commonCodecs(bareStatic, g711Only)).toEqual(['PCMA/8000', 'PCMU/8000']);
  });

  it('reads every rtpmap line right, past the memo of lines read before and with long lines', () => {
    const offerOf = (name: string) =>
      `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 96\r\na=rtpmap:96 ${name}/8000\r\n`;
    const names = Array.from({ length: 1200 }, (_, i) => `x${i}`);
    for (const name of [...names, ...names.slice(0, 10)]) {
      expect(commonCodecs(offerOf(name), resolvePolicy({}))).toEqual([`${name}/8000`]);
    }
    const long = `x${'y'.repeat(100)}`;
    expect(commonCodecs(offerOf(long), resolvePolicy({}))).toEqual([`${long}/8000`]);
    expect(commonCodecs(offerOf(long), resolvePolicy({}))).toEqual([`${long}/8000`]);
  });
});

describe('named interop fixes', () => {
  it('strip-mdns-candidates removes .local host candidates and keeps the others', () => {
    const out = applyToOffer(firefoxOffer, resolvePolicy({ fixes: ['strip-mdns-candidates'] }));
    const candidates = out.split('\r\n').filter((l) => l.startsWith('a=candidate'));
    expect(candidates).toEqual([
      'a=candidate:1 1 UDP 1686052863 192.0.2.10 58279 typ srflx raddr 0.0.0.0 rport 0',
    ]);
  });

  it('remove-extmap-allow-mixed removes the attribute for older Asterisk', () => {
    expect(chromeOffer).toContain('a=extmap-allow-mixed');
    const out = applyToOffer(chromeOffer, resolvePolicy({ fixes: ['remove-extmap-allow-mixed'] }));
    expect(out).not.toContain('a=extmap-allow-mixed');
    expect(out).toContain('a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level');
  });

  it('drop-red-ulpfec removes red with its fmtp line toward a PBX', () => {
    const out = applyToOffer(chromeOffer, resolvePolicy({ fixes: ['drop-red-ulpfec'] }));
    expect(out).not.toMatch(/red\/48000|a=fmtp:63 /);
    expect(audioCodecs(out)).toContain('opus/48000');
  });
});

describe('applyToAnswer', () => {
  it('keeps the answer within the offer', () => {
    const offer = applyToOffer(chromeOffer, g711Only);
    const out = applyToAnswer(offer, chromeAnswer, resolvePolicy({}));
    const offered = new Set(audioCodecs(offer));
    expect(audioCodecs(out).every((codec) => offered.has(codec))).toBe(true);
    expect(negotiatedCodec(offer, out)).toBe('PCMU/8000');
  });

  it('applyToAnswerWithCodec gives what applyToAnswer and negotiatedCodec give, for every policy and answer, from the offer or from its reading', () => {
    const policies = [
      resolvePolicy({}),
      resolvePolicy({ audioOnly: false }),
      g711Only,
      resolvePolicy({ preferences: ['G722/8000'], ptime: 20 }),
    ];
    for (const policy of policies) {
      for (const [original, answer] of [
        [chromeOffer, chromeAnswer],
        [chromeOffer, chromeOffer],
        [chromeOffer, fixture('rtpengine-answer-to-browser.sdp')],
        [avOffer, avOffer],
      ] as const) {
        const offer = applyToOffer(original, policy);
        const reading = applyToOfferReading(original, policy);
        expect(reading.sdp).toBe(offer);
        const sdp = applyToAnswer(offer, answer, policy);
        const withCodec = { sdp, codec: negotiatedCodec(offer, sdp) };
        expect(applyToAnswerWithCodec(offer, answer, policy)).toEqual(withCodec);
        expect(applyToAnswerWithCodec(reading.offered, answer, policy)).toEqual(withCodec);
      }
    }
  });

  it('under a policy that asks for nothing, passes an answer within its offer as it came, and still trims one that is not', () => {
    const nothing = resolvePolicy({ audioOnly: false });
    expect(applyToAnswerWithCodec(chromeOffer, chromeAnswer, nothing)).toEqual({
      sdp: chromeAnswer,
      codec: 'opus/48000/2',
    });
    const g711Offer = applyToOffer(chromeOffer, g711Only);
    const trimmed = applyToAnswer(g711Offer, chromeAnswer, nothing);
    expect(trimmed).not.toBe(chromeAnswer);
    expect(audioCodecs(trimmed).every((codec) => new Set(audioCodecs(g711Offer)).has(codec))).toBe(true);
  });

  it('fails with NoCommonCodecError when the answer has nothing the offer allowed', () => {
    const offer = applyToOffer(chromeOffer, resolvePolicy({ allow: ['opus'] }));
    expect(() => applyToAnswer(offer, fixture('asterisk-answer.sdp'), resolvePolicy({}))).toThrow(
      NoCommonCodecError,
    );
  });

  it('refuses in the answer a stream the offer refused', () => {
    const offer = applyToOffer(avOffer, resolvePolicy({}));
    const answerWithVideo = applyToOffer(avOffer, resolvePolicy({ audioOnly: false }));
    const out = sdpTransform.parse(
      applyToAnswer(offer, answerWithVideo, resolvePolicy({ audioOnly: false })),
    );
    expect(out.media.map((m) => m.port === 0)).toEqual([false, true, true]);
  });
});

describe('negotiatedCodec', () => {
  it.each([
    ['chromium-audio-offer.sdp', 'chromium-audio-answer.sdp', 'opus/48000/2'],
    ['chromium-audio-offer.sdp', 'asterisk-answer.sdp', 'PCMU/8000'],
    ['chromium-audio-offer.sdp', 'rtpengine-answer-to-browser.sdp', 'PCMU/8000'],
  ])('%s answered by %s is %s', (offer, answer, codec) => {
    expect(negotiatedCodec(fixture(offer), fixture(answer))).toBe(codec);
  });
});

describe('every fixture', () => {
  it.each(FIXTURE_NAMES)('%s passes an empty policy as it came, byte for byte (LF line ends too)', (name) => {
    const sdp = fixture(name);
    const lf = sdp.replace(/\r\n/g, '\n');
    expect(applyToOffer(sdp, resolvePolicy({ audioOnly: false }))).toBe(sdp);
    expect(applyToOffer(lf, resolvePolicy({ audioOnly: false }))).toBe(lf);
  });

  it.each(FIXTURE_NAMES)('%s keeps its ICE and DTLS lines through a G.711 policy', (name) => {
    const sdp = fixture(name);
    expect(iceAndDtlsLines(applyToOffer(sdp, g711Only))).toEqual(iceAndDtlsLines(sdp));
  });
});

describe('codecPolicyModifier', () => {
  it('rewrites a description’s SDP and leaves one without SDP alone', async () => {
    const modify = codecPolicyModifier(g711Only);
    const offer = await modify({ type: 'offer', sdp: chromeOffer });
    expect(offer.type).toBe('offer');
    expect(audioCodecs(offer.sdp as string)[0]).toBe('PCMA/8000');
    expect(await modify({ type: 'rollback' })).toEqual({ type: 'rollback' });
  });

  it('rejects with NoCommonCodecError when nothing is left', async () => {
    await expect(
      codecPolicyModifier(resolvePolicy({ allow: ['G729'] }))({ type: 'offer', sdp: chromeOffer }),
    ).rejects.toThrow(NoCommonCodecError);
  });
});
