import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { CallRecovery, type RecoveryContext, recoveryRetryDelay } from '../src/call-recovery.js';
import { CallState } from '../src/call-state.js';
import type { EndReason } from '../src/failure-reason.js';
import { SipRefusal } from '../src/sip-refusal.js';
import { Waterfall } from '../src/waterfall.js';

describe('when a recovery re-INVITE is sent again', () => {
  it('after glare (491, or 488 from SIP.js), waits as RFC 3261 §14.1 says: caller 2.1–4 s, callee 0–2 s', () => {
    for (const status of [491, 488]) {
      expect(recoveryRetryDelay(status, 'outgoing', () => 0)).toBe(2100);
      expect(recoveryRetryDelay(status, 'outgoing', () => 1)).toBe(4000);
      expect(recoveryRetryDelay(status, 'incoming', () => 0)).toBe(0);
      expect(recoveryRetryDelay(status, 'incoming', () => 1)).toBe(2000);
    }
  });

  it('retries soon while the far side is not back (404, 408, 430, 480, 500, 503), after 1 s without an answer, and gives up otherwise', () => {
    for (const status of [404, 408, 430, 480, 500, 503])
      expect(recoveryRetryDelay(status, 'outgoing')).toBe(250);
    expect(recoveryRetryDelay(undefined, 'incoming')).toBe(1000);
    for (const status of [403, 415, 603]) expect(recoveryRetryDelay(status, 'outgoing')).toBeUndefined();
  });
});

/** A call as its recovery sees it: a state, a peer connection that is connected or not, and the re-INVITEs it sent. */
class FakeCall implements RecoveryContext {
  readonly waterfall = new Waterfall();
  current: CallState;
  connected = false;
  /** What each re-INVITE gets, in order: undefined for a 200 (the media connects), a status to refuse it. */
  answers: Array<number | undefined> = [];
  readonly reinvites: boolean[] = [];
  readonly failures: Array<{ reason: EndReason; hangUp: boolean }> = [];

  constructor(
    readonly direction: 'outgoing' | 'incoming',
    state: CallState,
  ) {
    this.current = state;
  }

  state(): CallState {
    return this.current;
  }

  mediaConnected(): boolean {
    return this.connected;
  }

  async restartIce(hold: boolean): Promise<void> {
    this.reinvites.push(hold);
    const status = this.answers.shift();
    if (status !== undefined) throw new SipRefusal('re-INVITE', status, '');
    this.connected = true;
  }

  moveTo(state: CallState): void {
    this.current = state;
  }

  fail(reason: EndReason, hangUp: boolean): void {
    this.failures.push({ reason, hangUp });
    this.current = CallState.Failed;
  }
}

/** A live call that lost its connection and whose phone is registered again: its first re-INVITE is on its way. */
function recovering(answers: Array<number | undefined>, state = CallState.Active) {
  const call = new FakeCall('outgoing', state);
  call.answers = answers;
  const recovery = new CallRecovery(call);
  recovery.connectionLost();
  recovery.recover();
  return { call, recovery };
}

describe('CallRecovery', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('connectionLost() moves a live call to reconnecting and counts the loss; a call not yet answered stays as it is', () => {
    const call = new FakeCall('outgoing', CallState.Active);
    const recovery = new CallRecovery(call);
    recovery.connectionLost();
    expect(call.current).toBe(CallState.Reconnecting);
    expect(recovery.reconnects).toEqual([{ at: 1_000_000 }]);
    expect(call.waterfall.get('reconnecting')).toBeDefined();

    const ringing = new FakeCall('outgoing', CallState.Ringing);
    const notLive = new CallRecovery(ringing);
    notLive.connectionLost();
    expect(ringing.current).toBe(CallState.Ringing);
    expect(notLive.reconnects).toEqual([]);
  });

  it('recover() restarts the media at once for the caller and goes back to held, with the time it took', async () => {
    jest.setSystemTime(1_000_000 - 700);
    const { call, recovery } = recovering([undefined], CallState.Held);
    jest.setSystemTime(1_000_000);
    await jest.advanceTimersByTimeAsync(0);
    expect(call.reinvites).toEqual([true]);
    expect(call.current).toBe(CallState.Held);
    expect(recovery.reconnects).toEqual([{ at: 1_000_000 - 700, tookMs: 700 }]);
    expect(call.waterfall.get('reconnected')).toBeDefined();
  });

  it('recover() leaves the first try to the caller for 1 s on the callee side, and the caller’s re-INVITE ends the wait', async () => {
    const call = new FakeCall('incoming', CallState.Active);
    const recovery = new CallRecovery(call);
    recovery.connectionLost();
    recovery.recover();
    await jest.advanceTimersByTimeAsync(999);
    expect(call.reinvites).toEqual([]);
    // The caller's ICE restart was answered and the media connected.
    call.connected = true;
    recovery.mediaBack();
    expect(call.current).toBe(CallState.Active);
    await jest.advanceTimersByTimeAsync(5000);
    expect(call.reinvites).toEqual([]);
  });

  it('mediaBack() waits for the peer connection to be connected', () => {
    const call = new FakeCall('outgoing', CallState.Active);
    const recovery = new CallRecovery(call);
    recovery.connectionLost();
    recovery.mediaBack();
    expect(call.current).toBe(CallState.Reconnecting);
    call.connected = true;
    recovery.mediaBack();
    expect(call.current).toBe(CallState.Active);
  });

  it('sends the re-INVITE again after 250 ms while the far side is not back (480), then recovers', async () => {
    const { call } = recovering([480, 480, undefined]);
    await jest.advanceTimersByTimeAsync(0);
    expect(call.reinvites).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(250);
    expect(call.reinvites).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(250);
    expect(call.reinvites).toHaveLength(3);
    expect(call.current).toBe(CallState.Active);
  });

  it('fails the call and hangs up on a refusal that will not pass (403); fails without a BYE on 481', async () => {
    const refused = recovering([403]).call;
    await jest.advanceTimersByTimeAsync(0);
    expect(refused.failures).toEqual([
      { reason: { kind: 'remote', code: 403, text: 'could not restart the media (403)' }, hangUp: true },
    ]);

    const gone = recovering([481]).call;
    await jest.advanceTimersByTimeAsync(0);
    expect(gone.failures).toEqual([
      {
        reason: { kind: 'remote', code: 481, text: 'the other side no longer has this call (481)' },
        hangUp: false,
      },
    ]);
  });

  it('stop() leaves no retry behind', async () => {
    const { call, recovery } = recovering([503]);
    await jest.advanceTimersByTimeAsync(0);
    recovery.stop();
    expect(jest.getTimerCount()).toBe(0);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(call.reinvites).toHaveLength(1);
  });
});
