import { describe, expect, it } from '@jest/globals';
import { readMessageSummary } from '../src/message-summary.js';
import { voicemailWords } from '../src/ui/voicemail.js';

describe('readMessageSummary (RFC 3842)', () => {
  it('reads what Asterisk sends: waiting, voice counts and the account that plays them', () => {
    const body =
      'Messages-Waiting: yes\r\nMessage-Account: sip:*97@127.0.0.1\r\nVoice-Message: 2/8 (0/2)\r\n';
    expect(readMessageSummary(body)).toEqual({
      waiting: true,
      newMessages: 2,
      oldMessages: 8,
      account: 'sip:*97@127.0.0.1',
    });
  });

  it('takes fields in any case and order, without urgent counts or an account', () => {
    expect(readMessageSummary('voice-message: 0/1\nMESSAGES-WAITING: No\n')).toEqual({
      waiting: false,
      newMessages: 0,
      oldMessages: 1,
      account: undefined,
    });
  });

  it('counts only voice messages: other classes (fax) do not light the count', () => {
    expect(readMessageSummary('Messages-Waiting: yes\r\nFax-Message: 3/0\r\n')).toMatchObject({
      waiting: true,
      newMessages: 0,
    });
  });

  it('is not a summary without Messages-Waiting, or with a value that is neither yes nor no', () => {
    expect(readMessageSummary('')).toBeUndefined();
    expect(readMessageSummary('Voice-Message: 1/0')).toBeUndefined();
    expect(readMessageSummary('Messages-Waiting: maybe')).toBeUndefined();
  });
});

describe('voicemailWords', () => {
  it('says new and old counts, or that there are none', () => {
    const summary = { waiting: true, newMessages: 2, oldMessages: 1, account: undefined };
    expect(voicemailWords(summary)).toBe('2 new, 1 old');
    expect(voicemailWords({ ...summary, newMessages: 0 })).toBe('1 old');
    expect(voicemailWords({ ...summary, newMessages: 0, oldMessages: 0 })).toBe('no messages');
  });
});
