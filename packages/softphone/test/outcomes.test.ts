import { describe, expect, it } from '@jest/globals';
import type { Core } from 'sip.js';
import { RETRY_REGISTRATION, registrationRefused } from '../src/failure-reason.js';
import { renewalEndsSignIn } from '../src/sign-in.js';
import { requestOutcome, SipRefusal } from '../src/sip-refusal.js';
import { ACTION_WORDS, actionFailure, deliveryText } from '../src/ui/action-outcome.js';
import { hasEndedTrack } from '../src/warm-microphone.js';

// Issue 23: a phone that never hides a failure.
const response = (statusCode: number, reasonPhrase: string) =>
  ({ message: { statusCode, reasonPhrase } }) as unknown as Core.IncomingResponse;

describe('renewalEndsSignIn', () => {
  it('ends the sign-in on 401 only', () => {
    expect(renewalEndsSignIn(401)).toBe(true);
  });

  it('keeps the sign-in (and its calls) on 429, 503, 500, 403 or no answer at all', () => {
    for (const status of [429, 503, 500, 502, 504, 403, 404, undefined])
      expect(renewalEndsSignIn(status)).toBe(false);
  });
});

describe('registrationRefused', () => {
  it('says the status and the reason phrase', () => {
    expect(registrationRefused(403, 'Forbidden')).toEqual({
      kind: 'remote',
      code: 403,
      text: 'refused (403 Forbidden)',
    });
    expect(registrationRefused(401, '').text).toBe('refused (401)');
  });

  it('retries by itself after passing refusals only, never after one that needs new credentials', () => {
    for (const status of [408, 500, 503, 504]) expect(RETRY_REGISTRATION.has(status)).toBe(true);
    for (const status of [401, 403, 404]) expect(RETRY_REGISTRATION.has(status)).toBe(false);
  });
});

describe('requestOutcome', () => {
  it('resolves on the 2xx answer, not when the request was sent', async () => {
    const accepted = response(202, 'Accepted');
    await expect(
      requestOutcome('MESSAGE', async (delegate) => {
        setTimeout(() => delegate.onAccept?.(accepted), 5);
      }),
    ).resolves.toBe(accepted);
  });

  it('rejects with SipRefusal carrying the status and reason phrase of a refusal', async () => {
    const refused = requestOutcome('MESSAGE', async (delegate) =>
      delegate.onReject?.(response(404, 'Not Found')),
    );
    await expect(refused).rejects.toBeInstanceOf(SipRefusal);
    await expect(refused).rejects.toMatchObject({
      request: 'MESSAGE',
      status: 404,
      reasonPhrase: 'Not Found',
      message: 'MESSAGE refused: 404 Not Found',
    });
  });

  it('rejects when the request cannot be sent at all', async () => {
    await expect(requestOutcome('INFO', () => Promise.reject(new Error('transport closed')))).rejects.toThrow(
      'transport closed',
    );
  });
});

describe('actionFailure', () => {
  it('names the action and the refusal, and says a 491 can be tried again', () => {
    expect(actionFailure('hold', new SipRefusal('re-INVITE', 491, 'Request Pending'))).toBe(
      'Could not put the call on hold: 491 Request Pending (the other side was changing the call at the same moment: try again)',
    );
    expect(actionFailure('transfer', new SipRefusal('REFER', 403, 'Forbidden'))).toBe(
      'Could not transfer the call: 403 Forbidden',
    );
  });

  it('gives a browser error its name', () => {
    const error = Object.assign(new Error('Requested device not found'), { name: 'NotFoundError' });
    expect(actionFailure('microphone', error)).toBe(
      'Could not switch the microphone: NotFoundError: Requested device not found',
    );
  });

  it('has words for every action', () => {
    for (const words of Object.values(ACTION_WORDS)) expect(words).toMatch(/^Could not /);
  });
});

describe('deliveryText', () => {
  it('says sending, delivered, or failed with the status and reason phrase', () => {
    expect(deliveryText('sending')).toBe('sending');
    expect(deliveryText('delivered')).toBe('delivered');
    expect(deliveryText({ failed: new SipRefusal('MESSAGE', 480, 'Temporarily Unavailable') })).toBe(
      'failed (480 Temporarily Unavailable)',
    );
    expect(deliveryText({ failed: new Error('WebSocket closed') })).toBe('failed (WebSocket closed)');
  });
});

describe('hasEndedTrack', () => {
  it('is true once a track of the warm microphone ended (unplugged, permission revoked)', () => {
    expect(hasEndedTrack([{ readyState: 'live' }])).toBe(false);
    expect(hasEndedTrack([{ readyState: 'ended' }])).toBe(true);
    expect(hasEndedTrack([{ readyState: 'live' }, { readyState: 'ended' }])).toBe(true);
    expect(hasEndedTrack([])).toBe(true);
  });
});
