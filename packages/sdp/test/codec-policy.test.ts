import { describe, expect, it } from '@jest/globals';
import { PolicyError, resolvePolicy } from '../src/index.js';

describe('resolvePolicy', () => {
  it('normalises codec names and fills defaults', () => {
    expect(resolvePolicy({ preferences: ['opus', 'g711u', 'G722/8000', 'pcma/8000'] })).toMatchObject({
      preferences: ['opus/48000/2', 'PCMU/8000', 'G722/8000', 'PCMA/8000'],
      telephoneEvent: true,
      audioOnly: true,
      fixes: [],
    });
  });

  it.each([
    [{ preferences: ['not a codec'] }, 'preferences[0]'],
    [{ allow: [] }, 'allow'],
    [{ deny: 'PCMU' }, 'deny'],
    [{ ptime: 5 }, 'ptime'],
    [{ opus: { maxaveragebitrate: 1 } }, 'opus.maxaveragebitrate'],
    [{ opus: { usedtx: 'yes' } }, 'opus.usedtx'],
    [{ bandwidth: { as: 0 } }, 'bandwidth.as'],
    [{ fixes: ['make-it-work'] }, 'fixes[0]'],
    [{ telephoneEvent: 1 }, 'telephoneEvent'],
  ])('refuses %j naming %s', (policy, field) => {
    expect(() => resolvePolicy(policy as never)).toThrow(PolicyError);
    expect(() => resolvePolicy(policy as never)).toThrow(`codec policy: ${field}:`);
  });
});
