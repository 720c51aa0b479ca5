import { describe, expect, it } from '@jest/globals';
import { contactPresence } from '../src/presence.js';

describe('contactPresence: the lamp from presence and dialog reports', () => {
  it.each([
    [{ online: undefined, dialogs: undefined }, 'unknown'],
    [{ online: false, dialogs: [] }, 'offline'],
    [{ online: true, dialogs: [] }, 'online'],
    [{ online: true, dialogs: [{ direction: 'recipient', state: 'early' }] }, 'ringing'],
    [{ online: true, dialogs: [{ direction: 'recipient', state: 'confirmed' }] }, 'on-call'],
    [{ online: true, dialogs: [{ direction: 'initiator', state: 'early' }] }, 'on-call'],
    [{ online: true, dialogs: [{ direction: 'recipient', state: 'terminated' }] }, 'online'],
    // A call seen before any presence document proves the contact is there.
    [{ online: undefined, dialogs: [{ direction: undefined, state: 'trying' }] }, 'ringing'],
    [
      {
        online: true,
        dialogs: [
          { direction: 'recipient', state: 'early' },
          { direction: 'recipient', state: 'confirmed' },
        ],
      },
      'on-call',
    ],
  ] as const)('%j → %s', (report, lamp) => {
    expect(contactPresence({ online: report.online, dialogs: report.dialogs?.map((d) => ({ ...d })) })).toBe(
      lamp,
    );
  });
});
