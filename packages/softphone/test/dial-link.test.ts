import { describe, expect, it } from '@jest/globals';
import { dialLinkTarget, linkHandlerUrl } from '../src/ui/dial-link.js';

describe('sip: and tel: links', () => {
  it('takes a SIP URI as it is, and a tel: number without separators or parameters', () => {
    expect(dialLinkTarget('sip:bob@example.com')).toBe('sip:bob@example.com');
    expect(dialLinkTarget(' sips:bob@example.com;transport=tls ')).toBe('sips:bob@example.com;transport=tls');
    expect(dialLinkTarget('tel:+1-201-555-0123')).toBe('+12015550123');
    expect(dialLinkTarget('tel:(0)30 1234.56;phone-context=example.com')).toBe('030123456');
    expect(dialLinkTarget('tel:*600#')).toBe('*600#');
  });

  it('refuses anything else', () => {
    for (const link of [
      '',
      'http://example.com',
      'javascript:alert(1)',
      'tel:call-me',
      'sip:bob <x>',
      'mailto:bob@x',
    ])
      expect([link, dialLinkTarget(link)]).toEqual([link, undefined]);
  });

  it('registers the page itself as the handler, with the link in ?dial=', () => {
    expect(linkHandlerUrl({ origin: 'https://phone.example.com', pathname: '/' })).toBe(
      'https://phone.example.com/?dial=%s',
    );
  });
});
