import { describe, expect, it } from '@jest/globals';
import { signInIdentity } from '../src/sign-in.js';

describe('signInIdentity', () => {
  it('signs in with an ephemeral username as the user after the expiry', () => {
    expect(signInIdentity('1796200000:gina', undefined, 'secret', 'ringway.test')).toEqual({
      aor: 'sip:gina@ringway.test',
      authorizationUsername: '1796200000:gina',
    });
  });

  it('takes a separate authorization user as the password’s name, and the user as the address', () => {
    expect(signInIdentity('gina', '1796200000:gina', 'secret', 'ringway.test')).toEqual({
      aor: 'sip:gina@ringway.test',
      authorizationUsername: '1796200000:gina',
    });
    expect(signInIdentity('sales', 'gina', 'secret', 'ringway.test')).toEqual({
      aor: 'sip:sales@ringway.test',
      authorizationUsername: 'gina',
    });
  });

  it('uses a whole SIP URI as the address, and a plain name for both', () => {
    expect(signInIdentity('sip:gina@pbx.example', undefined, 'pw', 'ringway.test').aor).toBe(
      'sip:gina@pbx.example',
    );
    expect(signInIdentity(' gina ', undefined, 'pw', 'ringway.test')).toEqual({
      aor: 'sip:gina@ringway.test',
      authorizationUsername: 'gina',
    });
  });

  it('has no authorization user without a password (anonymous development mode)', () => {
    expect(signInIdentity('gina', undefined, undefined, 'ringway.test')).toEqual({
      aor: 'sip:gina@ringway.test',
      authorizationUsername: undefined,
    });
  });
});
