import { describe, expect, it } from '@jest/globals';
import { expectedCandidateTypes, type Gathering, offerWaitMs } from '../src/fast-ice.js';
import { StunProbe, stunServers } from '../src/stun-probe.js';

const STUN = [{ urls: 'stun:127.0.0.1:3478' }];
const TURN = [{ urls: 'turn:127.0.0.1:3478?transport=udp', username: 'u', credential: 'p' }];
const timing = { idleMs: 50, hostQuietMs: 10 };

function gathering(servers: RTCIceServer[], seen: string[], rest: Partial<Gathering> = {}): Gathering {
  return {
    expected: expectedCandidateTypes(servers),
    seen: new Set(seen),
    stun: { kind: 'unknown' },
    quietMs: 0,
    ...rest,
  };
}

describe('offerWaitMs', () => {
  it('waits for the first candidate however long it takes (the cap ends it)', () => {
    expect(offerWaitMs(gathering([], [], { quietMs: undefined }), timing)).toBe(Number.POSITIVE_INFINITY);
  });

  it('sends host candidates after a short quiet spell when there are no ICE servers', () => {
    expect(offerWaitMs(gathering([], ['host'], { quietMs: 0 }), timing)).toBe(10);
    expect(offerWaitMs(gathering([], ['host'], { quietMs: 4 }), timing)).toBe(6);
    expect(offerWaitMs(gathering([], ['host'], { quietMs: 12 }), timing)).toBe(0);
  });

  it('sends at once when the srflx candidate of the STUN server is in', () => {
    expect(offerWaitMs(gathering(STUN, ['host', 'srflx']), timing)).toBe(0);
  });

  it('waits the idle spell for srflx when nothing is known of the STUN server', () => {
    expect(offerWaitMs(gathering(STUN, ['host'], { quietMs: 5 }), timing)).toBe(45);
  });

  it('waits the idle spell for srflx from a STUN server that answered the warm-up', () => {
    expect(offerWaitMs(gathering(STUN, ['host'], { quietMs: 5, stun: { kind: 'answers' } }), timing)).toBe(
      45,
    );
  });

  it('does not wait for srflx from a STUN server that did not answer the warm-up', () => {
    expect(offerWaitMs(gathering(STUN, ['host'], { quietMs: 3, stun: { kind: 'silent' } }), timing)).toBe(7);
  });

  it('waits for srflx only until the STUN server’s time to answer the warm-up runs out', () => {
    const pending = (msLeft: number) =>
      gathering(STUN, ['host'], { quietMs: 0, stun: { kind: 'pending', msLeft } });
    expect(offerWaitMs(pending(20), timing)).toBe(20);
    expect(offerWaitMs(pending(2), timing)).toBe(10);
    expect(offerWaitMs(pending(500), timing)).toBe(50);
  });

  it('still waits the idle spell for TURN’s relay candidate when STUN is silent', () => {
    expect(
      offerWaitMs(gathering([...STUN, ...TURN], ['host'], { quietMs: 0, stun: { kind: 'silent' } }), timing),
    ).toBe(50);
  });
});

describe('StunProbe', () => {
  function clocked() {
    let now = 1000;
    return { probe: new StunProbe(100, () => now), advance: (ms: number) => (now += ms) };
  }

  it('knows nothing before the warm-up gathered, or of other servers', () => {
    const { probe } = clocked();
    expect(probe.verdict(STUN)).toEqual({ kind: 'unknown' });
    probe.start(STUN);
    probe.hostGathered();
    expect(probe.verdict([{ urls: 'stun:127.0.0.1:9999' }])).toEqual({ kind: 'unknown' });
  });

  it('counts a server that has not answered within its time as silent, and answering once it does', () => {
    const { probe, advance } = clocked();
    probe.start(STUN);
    probe.hostGathered();
    advance(40);
    expect(probe.verdict(STUN)).toEqual({ kind: 'pending', msLeft: 60 });
    advance(60);
    expect(probe.verdict(STUN)).toEqual({ kind: 'silent' });
    probe.answered();
    expect(probe.verdict(STUN)).toEqual({ kind: 'answers' });
  });

  it('judges the STUN servers alone: TURN credentials may change without a new probe', () => {
    const { probe } = clocked();
    probe.start([...STUN, ...TURN]);
    probe.hostGathered();
    probe.answered();
    expect(probe.verdict([...STUN, { ...TURN[0], credential: 'renewed' } as RTCIceServer])).toEqual({
      kind: 'answers',
    });
  });

  it('asks STUN servers only, never TURN ones (that would allocate a relay)', () => {
    expect(stunServers([{ urls: ['stun:a:3478', 'turn:a:3478'] }, ...TURN])).toEqual([
      { urls: ['stun:a:3478'] },
    ]);
  });

  it('refuses a negative time to answer', () => {
    expect(() => new StunProbe(-1)).toThrow('stunAnswerMs is -1: expected ms ≥ 0');
  });
});
