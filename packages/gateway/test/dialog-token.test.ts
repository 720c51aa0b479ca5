import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { DialogTokens } from '../src/sip/proxy/dialog-token.js';

describe('DialogTokens', () => {
  const key = randomBytes(32);

  it('signs a dialog alike from either side, and verifies only its own token for it', () => {
    const tokens = new DialogTokens(key);
    const token = tokens.sign('call-1', 'alice', 'bob');
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    expect(tokens.sign('call-1', 'bob', 'alice')).toBe(token);
    expect(tokens.verify(token, 'call-1', 'bob', 'alice')).toBe(true);
    expect(tokens.verify(token.toUpperCase(), 'call-1', 'alice', 'bob')).toBe(true);
    expect(tokens.verify(token, 'call-2', 'alice', 'bob')).toBe(false);
    expect(tokens.verify(token, 'call-1', 'alice', 'mallory')).toBe(false);
    expect(tokens.verify(token.slice(0, 31), 'call-1', 'alice', 'bob')).toBe(false);
  });

  it('is stateless: another signer with the key (a restarted gateway) verifies it, one with another key does not', () => {
    const token = new DialogTokens(key).sign('call-1', 'alice', 'bob');
    expect(new DialogTokens(key).verify(token, 'call-1', 'alice', 'bob')).toBe(true);
    expect(new DialogTokens(randomBytes(32)).verify(token, 'call-1', 'alice', 'bob')).toBe(false);
  });
});
