import { describe, expect, it } from '@jest/globals';
import { recoveryRetryDelay } from '../src/call.js';

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
