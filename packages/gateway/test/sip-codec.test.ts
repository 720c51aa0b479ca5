import { describe, expect, it } from '@jest/globals';
import { header, headers, type SipRequest } from '../src/sip/message.js';
import { SipParseError } from '../src/sip/parse-error.js';
import { parseSipMessage, splitHeaderList } from '../src/sip/parser.js';
import { serializeSipMessage } from '../src/sip/serializer.js';
import { formatVia, parseVia, withSource } from '../src/sip/via.js';

const crlf = (lines: string[]) => lines.join('\r\n');

// RFC 4475 §3.1.1.1 "wsinv": line folding, escaped quotes, LWS everywhere, compact forms mixed with
// long ones, unknown headers, leading zeros. Every element should take it as well formed.
const WSINV_BODY = crlf([
  'v=0',
  'o=mhandley 29739 7272939 IN IP4 192.0.2.3',
  's=-',
  'c=IN IP4 192.0.2.4',
  't=0 0',
  'm=audio 49217 RTP/AVP 0 12',
  'm=video 3227 RTP/AVP 31',
  'a=rtpmap:31 LPC',
  '',
]);
const WSINV = `${crlf([
  'INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0',
  'TO :',
  ' sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n',
  'from   : "J Rosenberg \\\\\\""       <sip:jdrosen@example.com>',
  '  ;',
  '  tag = 98asjd8',
  'MaX-fOrWaRdS: 0068',
  'Call-ID: wsinv.ndaksdj@192.0.2.1',
  'Content-Length   : 150',
  'cseq: 0009',
  '  INVITE',
  'Via  : SIP  /   2.0',
  ' /UDP',
  '    192.0.2.2;rport;branch=390skdjuw',
  's :',
  'NewFangledHeader:   newfangled value',
  ' continued newfangled value',
  'UnknownHeaderWithUnusualValue: ;;,,;;,;',
  'Content-Type: application/sdp',
  'Route:',
  ' <sip:services.example.com;lr;unknownwith=value;unknown-no-value>',
  'v:  SIP  / 2.0  / TCP     spindle.example.com   ;',
  '  branch  =   z9hG4bK9ikj8  ,',
  ' SIP  /    2.0   / UDP  192.168.255.111   ; branch=',
  ' z9hG4bK30239',
  'm:"Quoted string \\"\\"" <sip:jdrosen@example.com> ; newparam =',
  '      newvalue ;',
  '  secondparam ; q = 0.33',
  '',
  '',
])}${WSINV_BODY}`;

/** A minimal valid request with `replace` swapping whole header lines by name. */
function request(
  replace: Record<string, string | null> = {},
  startLine = 'OPTIONS sip:user@example.com SIP/2.0',
  body = '',
) {
  const base: Record<string, string> = {
    Via: 'SIP/2.0/WS a.invalid;branch=z9hG4bK1',
    'Max-Forwards': '70',
    From: '<sip:caller@example.com>;tag=1',
    To: '<sip:user@example.com>',
    'Call-ID': 'c1',
    CSeq: '1 OPTIONS',
    'Content-Length': String(Buffer.byteLength(body)),
  };
  const lines = Object.entries({ ...base, ...replace })
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k}: ${v}`);
  return `${crlf([startLine, ...lines, '', ''])}${body}`;
}

function parseError(text: string): SipParseError {
  try {
    parseSipMessage(text);
  } catch (error) {
    if (error instanceof SipParseError) return error;
    throw error;
  }
  throw new Error('message was accepted');
}

describe('parseSipMessage', () => {
  it('reads the RFC 4475 short tortuous INVITE', () => {
    expect(Buffer.byteLength(WSINV_BODY)).toBe(150);
    const message = parseSipMessage(WSINV) as SipRequest;
    expect(message.method).toBe('INVITE');
    expect(message.uri).toBe('sip:vivekg@chair-dnrc.example.com;unknownparam');
    expect(header(message, 'To')).toBe('sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n');
    expect(header(message, 'CSeq')).toBe('0009 INVITE');
    expect(header(message, 'Max-Forwards')).toBe('0068');
    expect(header(message, 'Subject')).toBe('');
    expect(header(message, 'Newfangledheader')).toBe('newfangled value continued newfangled value');
    expect(header(message, 'Unknownheaderwithunusualvalue')).toBe(';;,,;;,;');
    expect(headers(message, 'Via')).toHaveLength(3);
    expect(headers(message, 'Via').map((v) => parseVia(v)?.host)).toEqual([
      '192.0.2.2',
      'spindle.example.com',
      '192.168.255.111',
    ]);
    expect(headers(message, 'Contact')).toHaveLength(1);
    expect(message.body).toBe(WSINV_BODY);
  });

  it('expands compact header names and splits comma-separated lists outside quotes and <>', () => {
    const message = parseSipMessage(
      request({
        Via: null,
        v: 'SIP/2.0/WS a.invalid;branch=z9hG4bK1',
        m: '"Smith, J" <sip:j@a.invalid;x=1,2>, <sip:k@b.invalid>',
      }),
    );
    expect(headers(message, 'Contact')).toEqual(['"Smith, J" <sip:j@a.invalid;x=1,2>', '<sip:k@b.invalid>']);
    expect(header(message, 'Via')).toBe('SIP/2.0/WS a.invalid;branch=z9hG4bK1');
  });

  it('keeps commas inside WWW-Authenticate-like headers', () => {
    const message = parseSipMessage(request({ Authorization: 'Digest username="a", realm="b"' }));
    expect(headers(message, 'Authorization')).toEqual(['Digest username="a", realm="b"']);
  });

  it('reads a response without a reason phrase', () => {
    const message = parseSipMessage(
      crlf([
        'SIP/2.0 100 ',
        'Via: SIP/2.0/WS a.invalid;branch=z9hG4bK1',
        'CSeq: 1 INVITE',
        'Content-Length: 0',
        '',
        '',
      ]),
    );
    expect(message).toMatchObject({ kind: 'response', status: 100, reason: '' });
  });

  it.each([
    [
      'a Content-Length larger than the body (RFC 4475 clerr)',
      request({ 'Content-Length': '9999' }),
      /Content-Length 9999/,
    ],
    ['a negative Content-Length (RFC 4475 ncl)', request({ 'Content-Length': '-999' }), /Content-Length/],
    [
      'a CSeq method that is not the request method (RFC 4475 mismatch01)',
      request({ CSeq: '1 INVITE' }),
      /does not match/,
    ],
    [
      'a CSeq number above 2^31 (RFC 4475 scalar02)',
      request({ CSeq: '36893488147419103232 OPTIONS' }),
      /CSeq/,
    ],
    ['a missing Call-ID (RFC 4475 insuf)', request({ 'Call-ID': null }), /missing Call-ID/],
    [
      'a header line without a colon',
      request({}).replace('Max-Forwards: 70', 'Max-Forwards 70'),
      /malformed header/,
    ],
    [
      'a header name with a blank inside it',
      request({}).replace('Max-Forwards: 70', 'Max Forwards: 70'),
      /malformed header/,
    ],
    [
      'a header line that is only a colon and a value',
      request({}).replace('Max-Forwards: 70', ': 70'),
      /malformed header/,
    ],
    [
      'a lone CR inside a header value',
      request({}).replace('Max-Forwards: 70', 'Subject: a\rb'),
      /malformed header/,
    ],
    [
      'a lone CR inside a header value, the lines ending in bare LF',
      request({}).replace('Max-Forwards: 70', 'Subject: a\rb').replaceAll('\r\n', '\n'),
      /malformed header line "Subject/,
    ],
    [
      'a line separator (U+2028) inside a header value',
      request({}).replace('Max-Forwards: 70', 'Subject: a\u2028b'),
      /malformed header line "Subject/,
    ],
    [
      'two From headers (RFC 4475 multi01)',
      request({ From: '<sip:a@b>;tag=1\r\nFrom: <sip:c@d>;tag=2' }),
      /more than one From/,
    ],
    [
      'a Request-URI with spaces (RFC 4475 lwsruri)',
      request({}, 'OPTIONS sip:user@example.com ;x=1 SIP/2.0'),
      /start line/,
    ],
  ])('rejects %s with a warning that names it', (_name, text, pattern) => {
    const error = parseError(text);
    expect(error.status).toBe(400);
    expect(error.warning).toMatch(pattern);
  });

  it('answers an unknown SIP version with 505 (RFC 4475 badvers)', () => {
    const error = parseError(request({}, 'OPTIONS sip:t.watson@example.org SIP/7.0'));
    expect(error.status).toBe(505);
    expect(error.partial?.headers.some((h) => h.name === 'Via')).toBe(true);
  });

  it('counts the body in bytes, not characters, whether the message comes as text or as bytes', () => {
    const body = 'héllo';
    const byChars = request({ 'Content-Length': String(body.length) }, undefined, body);
    for (const input of [byChars, Buffer.from(byChars)])
      expect(() => parseSipMessage(input)).toThrow(/does not match the body's 6 bytes/);
    for (const input of [request({}, undefined, body), Buffer.from(request({}, undefined, body))])
      expect(parseSipMessage(input).body).toBe(body);
    const bareLf = request({}, undefined, body).replace(/\r\n/g, '\n');
    for (const input of [bareLf, Buffer.from(bareLf)]) expect(parseSipMessage(input).body).toBe(body);
  });

  it('survives random bytes without throwing anything but SipParseError', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    const valid = Buffer.from(request({}, undefined, 'v=0\r\n'));
    for (let i = 0; i < 2000; i++) {
      const bytes = Buffer.from(valid);
      for (let j = 0; j < 4; j++) bytes[random() % bytes.length] = random() % 256;
      try {
        parseSipMessage(bytes);
      } catch (error) {
        expect(error).toBeInstanceOf(SipParseError);
      }
    }
  });
});

describe('serializeSipMessage', () => {
  it('round-trips a message and rewrites Content-Length from the body', () => {
    const message = parseSipMessage(WSINV);
    const again = parseSipMessage(serializeSipMessage(message));
    expect(again).toEqual({ ...message, headers: again.headers });
    expect(again.headers.filter((h) => h.name !== 'Content-Length')).toEqual(
      message.headers.filter((h) => h.name !== 'Content-Length'),
    );
    expect(serializeSipMessage({ ...message, body: 'x' })).toMatch(/Content-Length: 1\r\n\r\nx$/);
  });
});

describe('splitHeaderList', () => {
  it('does not split inside quotes with escaped quotes', () => {
    expect(splitHeaderList('"a \\" , b" <sip:x@y>, <sip:z@w>')).toEqual([
      '"a \\" , b" <sip:x@y>',
      '<sip:z@w>',
    ]);
  });
});

describe('Via', () => {
  it('adds received and fills rport with the source (RFC 3581)', () => {
    const via = parseVia('SIP/2.0/WSS df7jal23ls0d.invalid;rport;branch=z9hG4bKabc') as NonNullable<
      ReturnType<typeof parseVia>
    >;
    expect(formatVia(withSource(via, '127.0.0.1', 50000))).toBe(
      'SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKabc;received=127.0.0.1;rport=50000',
    );
  });

  it('reads IPv6 hosts with ports', () => {
    expect(parseVia('SIP/2.0/WS [2001:db8::9]:5070;branch=z9hG4bK1')).toMatchObject({
      host: '[2001:db8::9]',
      port: 5070,
    });
  });

  it('reads parameters: names lower-cased, blanks around them dropped, flags, `=` inside a value', () => {
    expect(parseVia('SIP/2.0/WS h.invalid ; Branch = z9hG4bK1 ;;rport; x=a=b;maddr=')?.params).toEqual([
      ['branch', 'z9hG4bK1'],
      ['rport', undefined],
      ['x', 'a=b'],
      ['maddr', ''],
    ]);
    expect(parseVia('SIP/2.0/WS h.invalid')?.params).toEqual([]);
  });
});
