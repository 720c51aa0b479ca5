import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { WarmMicrophone } from '../src/warm-microphone.js';

/** A microphone track as the browser hands it out: live until stopped; clones are tracks of their own. */
class FakeTrack {
  static all: FakeTrack[] = [];
  readonly kind = 'audio';
  readyState: 'live' | 'ended' = 'live';

  constructor() {
    FakeTrack.all.push(this);
  }

  stop(): void {
    this.readyState = 'ended';
  }

  clone(): FakeTrack {
    return new FakeTrack();
  }
}

class FakeStream {
  constructor(readonly tracks: FakeTrack[] = []) {}

  getTracks(): FakeTrack[] {
    return this.tracks;
  }
}

const globals = globalThis as unknown as Record<string, unknown>;
let opened = 0;
const live = () => FakeTrack.all.filter((track) => track.readyState === 'live').length;
const audioOnly = { audio: true, video: false };

beforeAll(() => {
  globals.MediaStream = FakeStream;
  Object.defineProperty(globalThis, 'navigator', {
    configurable: true,
    value: {
      mediaDevices: {
        getUserMedia: async () => {
          opened++;
          return new FakeStream([new FakeTrack()]);
        },
      },
    },
  });
});
afterAll(() => {
  delete globals.MediaStream;
  delete globals.navigator;
});
beforeEach(() => {
  jest.useFakeTimers();
  opened = 0;
  FakeTrack.all = [];
});
afterEach(() => {
  jest.useRealTimers();
});

describe('WarmMicrophone', () => {
  it('releases the microphone opened ahead of calls after the quiet period', async () => {
    const microphone = new WarmMicrophone(30_000);
    await microphone.warm();
    expect(live()).toBe(1);
    await jest.advanceTimersByTimeAsync(29_999);
    expect(live()).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(live()).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('keeps it open while a call is live, starts the quiet period when the last call ends, and opens it again for the next call', async () => {
    const microphone = new WarmMicrophone(30_000);
    await microphone.warm();
    microphone.callsLive(true);
    const clone = (await microphone.factory(audioOnly, undefined as never)) as unknown as FakeStream;
    await jest.advanceTimersByTimeAsync(60_000);
    expect(live()).toBe(2);
    // SIP.js stops the call's own tracks when the call ends.
    for (const track of clone.getTracks()) track.stop();
    microphone.callsLive(false);
    await jest.advanceTimersByTimeAsync(30_000);
    expect(live()).toBe(0);

    microphone.callsLive(true);
    await microphone.factory(audioOnly, undefined as never);
    expect(opened).toBe(2);
    expect(live()).toBe(2);
  });

  it('with 0, never keeps it open: each call opens it, and it goes when the calls do', async () => {
    const microphone = new WarmMicrophone(0);
    expect(microphone.keepsWarm).toBe(false);
    microphone.callsLive(true);
    const call = (await microphone.factory(audioOnly, undefined as never)) as unknown as FakeStream;
    expect(opened).toBe(1);
    for (const track of call.getTracks()) track.stop();
    microphone.callsLive(false);
    await jest.advanceTimersByTimeAsync(0);
    expect(live()).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('stop() releases it at once and leaves no timer', async () => {
    const microphone = new WarmMicrophone(30_000);
    const stream = microphone.warm();
    microphone.stop();
    await stream;
    await jest.advanceTimersByTimeAsync(0);
    expect(live()).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('tells when the microphone opens (the browser granted it), each time it opens, and not for a warm one', async () => {
    const microphone = new WarmMicrophone(30_000);
    const told: number[] = [];
    microphone.opened.addListener(() => told.push(opened));
    const warming = microphone.warm();
    expect(told).toEqual([]);
    await warming;
    expect(told).toEqual([1]);
    await microphone.factory(audioOnly, undefined as never);
    expect(told).toEqual([1]);
    await jest.advanceTimersByTimeAsync(30_000);
    await microphone.warm();
    expect(told).toEqual([1, 2]);
  });

  it('refuses a quiet period that is not a number of ms ≥ 0, naming the option', () => {
    expect(() => new WarmMicrophone(-1)).toThrow(/warmMicrophoneMs is -1/);
    expect(() => new WarmMicrophone(Number.NaN)).toThrow(TypeError);
  });
});
