import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { CallState } from '../src/call-state.js';
import { MediaMonitor } from '../src/media-monitor.js';
import { Waterfall } from '../src/waterfall.js';

/** A peer connection as the monitor reads it: getStats() counters and one audio transceiver. */
class FakePeerConnection {
  packetsReceived = 0;
  packetsSent = 0;
  /** Microphone energy so far; undefined where the browser reports none (Firefox). */
  inputEnergy: number | undefined = 0;
  direction: RTCRtpTransceiverDirection = 'sendrecv';

  async getStats(): Promise<Map<string, Record<string, unknown>>> {
    return new Map<string, Record<string, unknown>>([
      ['in', { type: 'inbound-rtp', kind: 'audio', packetsReceived: this.packetsReceived, codecId: 'c' }],
      ['out', { type: 'outbound-rtp', kind: 'audio', packetsSent: this.packetsSent, codecId: 'c' }],
      ['mic', { type: 'media-source', kind: 'audio', totalAudioEnergy: this.inputEnergy }],
      ['c', { type: 'codec', mimeType: 'audio/opus' }],
    ]);
  }

  getTransceivers() {
    return [{ receiver: { track: { kind: 'audio' } }, currentDirection: this.direction }];
  }
}

function monitored(state = CallState.Active) {
  const pc = new FakePeerConnection();
  const call = {
    waterfall: new Waterfall(),
    current: state,
    isMuted: false,
    peerConnection: () => pc as unknown as RTCPeerConnection,
    state: () => call.current,
    muted: () => call.isMuted,
  };
  return { pc, call, monitor: new MediaMonitor(call) };
}

beforeEach(() => {
  jest.useFakeTimers();
});
afterEach(() => {
  jest.useRealTimers();
});

describe('MediaMonitor', () => {
  it('marks the first inbound RTP packet in the waterfall and stops looking', async () => {
    const { pc, call, monitor } = monitored();
    monitor.mediaConnected();
    await jest.advanceTimersByTimeAsync(100);
    expect(call.waterfall.get('firstRtp')).toBeUndefined();
    pc.packetsReceived = 1;
    await jest.advanceTimersByTimeAsync(20);
    expect(call.waterfall.get('firstRtp')).toBeDefined();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('gives up looking for the first RTP packet after 10 s', async () => {
    const { call, monitor } = monitored();
    monitor.mediaConnected();
    await jest.advanceTimersByTimeAsync(10_100);
    expect(call.waterfall.get('firstRtp')).toBeUndefined();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('samples the quality every second once established, and stop() ends every timer for good', async () => {
    const { monitor } = monitored();
    const seen: number[] = [];
    monitor.quality.addListener((sample) => seen.push(sample.packetsReceived));
    monitor.established();
    monitor.mediaConnected();
    await jest.advanceTimersByTimeAsync(3000);
    expect(seen).toHaveLength(3);
    expect(monitor.samples).toHaveLength(3);
    monitor.stop();
    expect(jest.getTimerCount()).toBe(0);
    monitor.established();
    monitor.mediaConnected();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('warns of no output once nothing arrives for 3 s, and keeps the kind for the report', async () => {
    const { pc, monitor } = monitored();
    const changes: unknown[] = [];
    monitor.mediaWarning.addListener((change) => changes.push(change));
    monitor.established();
    for (let second = 0; second < 5; second++) {
      pc.packetsSent += 50;
      pc.inputEnergy = (pc.inputEnergy ?? 0) + 0.01;
      await jest.advanceTimersByTimeAsync(1000);
    }
    expect(monitor.warnings.map((w) => [w.kind, w.cause])).toEqual([['no-output', 'network']]);
    expect([...monitor.warningsSeen]).toEqual(['no-output']);
    expect(changes).toHaveLength(1);
  });

  it('says whether the browser measures the microphone, only once the call has sent unmuted', async () => {
    const { pc, call, monitor } = monitored();
    pc.inputEnergy = undefined;
    call.isMuted = true;
    monitor.established();
    await jest.advanceTimersByTimeAsync(1000);
    expect(monitor.microphoneMeasured).toBeUndefined();
    call.isMuted = false;
    await jest.advanceTimersByTimeAsync(1000);
    expect(monitor.microphoneMeasured).toBe(false);
    pc.inputEnergy = 0.5;
    await jest.advanceTimersByTimeAsync(1000);
    expect(monitor.microphoneMeasured).toBe(true);
    pc.inputEnergy = undefined;
    await jest.advanceTimersByTimeAsync(1000);
    expect(monitor.microphoneMeasured).toBe(true);
    monitor.stop();
  });

  it('notices the other side holding the call (recvonly or inactive from here) and letting it go, but not our own hold', () => {
    const { pc, call, monitor } = monitored();
    const changes: boolean[] = [];
    monitor.remoteHoldChange.addListener((held) => changes.push(held));
    pc.direction = 'recvonly';
    monitor.remoteOfferAnswered();
    expect(monitor.heldByRemote).toBe(true);
    pc.direction = 'inactive';
    monitor.remoteOfferAnswered();
    pc.direction = 'sendrecv';
    monitor.remoteOfferAnswered();
    expect(changes).toEqual([true, false]);

    call.current = CallState.Held;
    pc.direction = 'inactive';
    monitor.remoteOfferAnswered();
    expect(monitor.heldByRemote).toBe(false);
  });
});
