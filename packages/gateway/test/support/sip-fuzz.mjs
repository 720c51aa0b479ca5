import { readFileSync } from 'node:fs';
import WebSocket from 'ws';

/**
 * A seeded SIP fuzzer for the gateway: real messages (as SIP.js and JsSIP write them, with SDP
 * captured from Chromium, Firefox, baresip and rtpengine) and messages after RFC 4475's torture
 * cases, each put through one to three mutations chosen from a table. The same seed gives the
 * same messages, so a failure can be replayed. Used by the CI fuzz test (50,000 messages) and by
 * `npm run fuzz` (bench/fuzz.mjs) for the long run.
 */

/** mulberry32: small, fast and good enough to pick mutations; seeded for replay. */
export function seededRandom(seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (list) => list[Math.floor(next() * list.length)],
  };
}

const fixture = (name) =>
  readFileSync(new URL(`../../../sdp/test/fixtures/${name}`, import.meta.url), 'utf8').replace(
    /\r?\n/g,
    '\r\n',
  );
const OFFERS = [
  'chromium-audio-offer.sdp',
  'chromium-audio-video-data-offer.sdp',
  'firefox-audio-offer.sdp',
  'baresip-offer.sdp',
  'rtpengine-offer-to-pbx.sdp',
].map(fixture);
const ANSWERS = ['chromium-audio-answer.sdp', 'asterisk-answer.sdp', 'rtpengine-answer-to-browser.sdp'].map(
  fixture,
);

const CRLF = '\r\n';

/** One message from parts: a start line, header lines and an optional body. */
function message(startLine, lines, body = '') {
  return [startLine, ...lines, `Content-Length: ${Buffer.byteLength(body)}`, '', body].join(CRLF);
}

function dialogHeaders(method, ctx, { toTag = false, cseq = 1 } = {}) {
  const { r, domain, from, to } = ctx;
  return [
    `Via: SIP/2.0/WSS ${r.int(1e6).toString(36)}.invalid;branch=z9hG4bK${r.int(1e9).toString(36)}`,
    'Max-Forwards: 70',
    `From: "${from}" <sip:${from}@${domain}>;tag=${r.int(1e9).toString(36)}`,
    `To: <sip:${to}@${domain}>${toTag ? `;tag=${r.int(1e9).toString(36)}` : ''}`,
    `Call-ID: ${r.int(1e9).toString(36)}${r.int(1e9).toString(36)}`,
    `CSeq: ${cseq} ${method}`,
  ];
}

const contact = (ctx) =>
  `Contact: <sip:${ctx.r.int(1e6).toString(36)}@${ctx.r.int(1e6).toString(36)}.invalid;transport=ws;ob>`;

/** Real messages, as softphones send them; `ctx` supplies the randomness, domain and users. */
const REAL = [
  (ctx) =>
    message(`REGISTER sip:${ctx.domain} SIP/2.0`, [
      ...dialogHeaders('REGISTER', { ...ctx, to: ctx.from }),
      `${contact(ctx)};reg-id=1;+sip.instance="<urn:uuid:${ctx.r.int(1e9)}-4a4e-4a4e-4a4e-000000000000>"`,
      'Expires: 600',
      'Allow: ACK,CANCEL,INVITE,MESSAGE,BYE,OPTIONS,INFO,NOTIFY,REFER',
      'Supported: path, gruu, outbound',
      'User-Agent: SIP.js/0.21.2',
    ]),
  (ctx) =>
    message(
      `INVITE sip:${ctx.to}@${ctx.domain} SIP/2.0`,
      [...dialogHeaders('INVITE', ctx), contact(ctx), 'Content-Type: application/sdp', 'Supported: outbound'],
      ctx.r.pick(OFFERS),
    ),
  (ctx) =>
    message(`INVITE sip:${ctx.to}@${ctx.domain} SIP/2.0`, [...dialogHeaders('INVITE', ctx), contact(ctx)]),
  (ctx) =>
    message(
      'SIP/2.0 200 OK',
      [...dialogHeaders('INVITE', ctx, { toTag: true }), contact(ctx), 'Content-Type: application/sdp'],
      ctx.r.pick(ANSWERS),
    ),
  (ctx) => message('SIP/2.0 180 Ringing', [...dialogHeaders('INVITE', ctx, { toTag: true }), contact(ctx)]),
  (ctx) => message('SIP/2.0 486 Busy Here', dialogHeaders('INVITE', ctx, { toTag: true })),
  (ctx) => message(`ACK sip:${ctx.to}@${ctx.domain} SIP/2.0`, dialogHeaders('ACK', ctx, { toTag: true })),
  (ctx) =>
    message(`BYE sip:${ctx.to}@${ctx.domain} SIP/2.0`, dialogHeaders('BYE', ctx, { toTag: true, cseq: 2 })),
  (ctx) => message(`CANCEL sip:${ctx.to}@${ctx.domain} SIP/2.0`, dialogHeaders('CANCEL', ctx)),
  (ctx) =>
    message(
      `MESSAGE sip:${ctx.to}@${ctx.domain} SIP/2.0`,
      [...dialogHeaders('MESSAGE', ctx), 'Content-Type: text/plain'],
      'hello',
    ),
  (ctx) =>
    message(`OPTIONS sip:${ctx.domain} SIP/2.0`, [
      ...dialogHeaders('OPTIONS', ctx),
      'Accept: application/sdp',
    ]),
  (ctx) =>
    message(
      `INFO sip:${ctx.to}@${ctx.domain} SIP/2.0`,
      [...dialogHeaders('INFO', ctx, { toTag: true, cseq: 3 }), 'Content-Type: application/dtmf-relay'],
      'Signal=5\r\nDuration=160\r\n',
    ),
  (ctx) =>
    message(`REFER sip:${ctx.to}@${ctx.domain} SIP/2.0`, [
      ...dialogHeaders('REFER', ctx, { toTag: true, cseq: 4 }),
      contact(ctx),
      `Refer-To: <sip:${ctx.from}@${ctx.domain}?Replaces=abc%3Bto-tag%3D1%3Bfrom-tag%3D2>`,
    ]),
  (ctx) =>
    message(
      `NOTIFY sip:${ctx.to}@${ctx.domain} SIP/2.0`,
      [
        ...dialogHeaders('NOTIFY', ctx, { toTag: true, cseq: 5 }),
        'Event: refer',
        'Subscription-State: terminated;reason=noresource',
        'Content-Type: message/sipfrag',
      ],
      'SIP/2.0 200 OK\r\n',
    ),
  (ctx) =>
    message(
      `UPDATE sip:${ctx.to}@${ctx.domain} SIP/2.0`,
      [
        ...dialogHeaders('UPDATE', ctx, { toTag: true, cseq: 6 }),
        contact(ctx),
        'Content-Type: application/sdp',
      ],
      ctx.r.pick(OFFERS),
    ),
  (ctx) =>
    message(`SUBSCRIBE sip:${ctx.to}@${ctx.domain} SIP/2.0`, [
      ...dialogHeaders('SUBSCRIBE', ctx),
      contact(ctx),
      'Event: dialog',
      'Expires: 60',
    ]),
];

/** Messages after RFC 4475 §3 (its valid and invalid torture cases), in this gateway's terms. */
const TORTURE = [
  // wsinv: folding, LWS, compact forms, escaped quotes
  (ctx) =>
    [
      `INVITE sip:${ctx.to}@${ctx.domain};unknownparam SIP/2.0`,
      'TO :',
      ` sip:${ctx.to}@${ctx.domain} ;   tag    = 1918181833n`,
      'from   : "J Rosenberg \\\\\\""       <sip:jdrosen@example.com>',
      '  ;',
      '  tag = 98asjd8',
      'MaX-fOrWaRdS: 0068',
      'Call-ID: wsinv.ndaksdj@192.0.2.1',
      'cseq: 0009',
      '  INVITE',
      'Via  : SIP  /   2.0',
      ' /WS',
      '    a.invalid;rport;branch=z9hG4bK390skdjuw',
      's :',
      'NewFangledHeader:   newfangled value',
      ' continued newfangled value',
      'UnknownHeaderWithUnusualValue: ;;,,;;,;',
      'm:"Quoted string \\"\\"" <sip:jdrosen@example.com> ; newparam =',
      '      newvalue ;',
      '  secondparam ; q = 0.33',
      'l: 0',
      '',
      '',
    ].join(CRLF),
  // intmeth: an unknown method with odd but legal characters
  (ctx) =>
    message(
      `!interesting-Method0123456789_*+\`.%indeed'~ sip:${ctx.to}@${ctx.domain} SIP/2.0`,
      dialogHeaders("!interesting-Method0123456789_*+`.%indeed'~", ctx),
    ),
  // esc01 / escnull: escaped characters (and a %00) in the user part
  (ctx) =>
    message(`OPTIONS sip:%73ip%3A${ctx.to}%00null@${ctx.domain} SIP/2.0`, dialogHeaders('OPTIONS', ctx)),
  // lwsdisp: no LWS between display name and <
  (ctx) =>
    message(
      `OPTIONS sip:${ctx.to}@${ctx.domain} SIP/2.0`,
      dialogHeaders('OPTIONS', ctx).map((l) =>
        l.startsWith('From:') ? `From: caller<sip:caller@example.com>;tag=323` : l,
      ),
    ),
  // longreq: very long values everywhere
  (ctx) =>
    message(`OPTIONS sip:${ctx.to}@${ctx.domain} SIP/2.0`, [
      ...dialogHeaders('OPTIONS', ctx),
      `X-Long: ${'longvalue'.repeat(500)}`,
      ...Array.from({ length: 40 }, (_, i) => `Via: SIP/2.0/WS host${i}.invalid;branch=z9hG4bK${i}`),
    ]),
  // semiuri: a semicolon-separated user part
  (ctx) =>
    message(`OPTIONS sip:user;par=u%40example.net@${ctx.domain} SIP/2.0`, dialogHeaders('OPTIONS', ctx)),
  // mpart01: a multipart body
  (ctx) =>
    message(
      `MESSAGE sip:${ctx.to}@${ctx.domain} SIP/2.0`,
      [...dialogHeaders('MESSAGE', ctx), 'Content-Type: multipart/mixed;boundary=7a9cbec.'],
      '--7a9cbec.\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n--7a9cbec.--\r\n',
    ),
  // noreason / unreason: no reason phrase, and an odd one
  (ctx) => message('SIP/2.0 100', dialogHeaders('INVITE', ctx)),
  (ctx) =>
    message(
      'SIP/2.0 200 = 2**3 * 5**2 но сто девяносто девять - простое',
      dialogHeaders('INVITE', ctx, { toTag: true }),
    ),
  // badinv01 / clerr / ncl / scalar02 / insuf / mismatch01 / badvers / zeromf / bigcode
  (ctx) =>
    message(`INVITE sip:${ctx.to}@${ctx.domain} SIP/2.0`, [
      ...dialogHeaders('INVITE', ctx),
      'Content-Length: 9999',
    ]),
  (ctx) =>
    message(`OPTIONS sip:${ctx.to}@${ctx.domain} SIP/2.0`, [
      ...dialogHeaders('OPTIONS', ctx),
      'Content-Length: -999',
    ]),
  (ctx) =>
    message(
      `OPTIONS sip:${ctx.to}@${ctx.domain} SIP/2.0`,
      dialogHeaders('OPTIONS', ctx).map((l) =>
        l.startsWith('CSeq') ? 'CSeq: 36893488147419103232 OPTIONS' : l,
      ),
    ),
  (ctx) =>
    message(
      `OPTIONS sip:${ctx.to}@${ctx.domain} SIP/2.0`,
      dialogHeaders('OPTIONS', ctx).filter((l) => !l.startsWith('Call-ID')),
    ),
  (ctx) => message(`OPTIONS sip:${ctx.to}@${ctx.domain} SIP/2.0`, dialogHeaders('INVITE', ctx)),
  (ctx) => message(`OPTIONS sip:${ctx.to}@${ctx.domain} SIP/7.0`, dialogHeaders('OPTIONS', ctx)),
  (ctx) =>
    message(
      `OPTIONS sip:${ctx.to}@${ctx.domain} SIP/2.0`,
      dialogHeaders('OPTIONS', ctx).map((l) => (l.startsWith('Max-Forwards') ? 'Max-Forwards: 0' : l)),
    ),
  (ctx) => message('SIP/2.0 4294967301 better not break the receiver', dialogHeaders('OPTIONS', ctx)),
  // lwsruri / ltgtruri / unksm / novelsc: odd Request-URIs
  (ctx) => message(`INVITE sip:${ctx.to}@${ctx.domain}; lr SIP/2.0`, dialogHeaders('INVITE', ctx)),
  (ctx) => message(`INVITE <sip:${ctx.to}@${ctx.domain}> SIP/2.0`, dialogHeaders('INVITE', ctx)),
  (ctx) =>
    message(`OPTIONS nobodyKnowsThisScheme:totallyopaquecontent SIP/2.0`, dialogHeaders('OPTIONS', ctx)),
  (ctx) => message(`OPTIONS soap.beep://192.0.2.103:3002 SIP/2.0`, dialogHeaders('OPTIONS', ctx)),
  // quotbal / badaspec: unbalanced quotes, and an addr-spec with spaces
  (ctx) =>
    message(
      `INVITE sip:${ctx.to}@${ctx.domain} SIP/2.0`,
      dialogHeaders('INVITE', ctx).map((l) =>
        l.startsWith('To:') ? 'To: "Mr. J. User <sip:j.user@example.com>' : l,
      ),
    ),
  (ctx) =>
    message(
      `OPTIONS sip:${ctx.to}@${ctx.domain} SIP/2.0`,
      dialogHeaders('OPTIONS', ctx).map((l) =>
        l.startsWith('From:') ? 'From: sip:caller@example.org ;tag=33242' : l,
      ),
    ),
  // regbadct: a REGISTER whose Contact has an unquoted URI with parameters
  (ctx) =>
    message(`REGISTER sip:${ctx.domain} SIP/2.0`, [
      ...dialogHeaders('REGISTER', { ...ctx, to: ctx.from }),
      `Contact: sip:user@example.com?Route=%3Csip:sip.example.com%3E`,
    ]),
  // a Route naming this gateway on another port, and identities a client may not assert
  (ctx) =>
    message(`MESSAGE sip:${ctx.to}@${ctx.domain} SIP/2.0`, [
      ...dialogHeaders('MESSAGE', ctx),
      `Route: <sip:${ctx.domain}:5060;lr>`,
      'P-Asserted-Identity: <sip:admin@example.com>',
    ]),
];

const GARBAGE = [
  '',
  ' ',
  ';',
  ',',
  '"',
  '<',
  '>',
  '\u0000',
  '%',
  '%zz',
  'ä',
  '\u{1F4A9}',
  '-1',
  '99999999999999999999',
  'sip:',
  '<sip:@>',
  'a'.repeat(300),
];

/** One mutation: a name (for the report) and how it changes a message. Tables, not branches. */
const MUTATIONS = [
  ['unchanged', (m) => m],
  [
    'flip-byte',
    (m, r) => {
      const i = r.int(m.length);
      return m.slice(0, i) + String.fromCharCode(r.int(256)) + m.slice(i + 1);
    },
  ],
  [
    'drop-line',
    (m, r) => {
      const lines = m.split(CRLF);
      lines.splice(1 + r.int(Math.max(1, lines.length - 1)), 1);
      return lines.join(CRLF);
    },
  ],
  [
    'duplicate-line',
    (m, r) => {
      const lines = m.split(CRLF);
      const i = r.int(lines.length);
      lines.splice(i, 0, lines[i] ?? '');
      return lines.join(CRLF);
    },
  ],
  ['truncate', (m, r) => m.slice(0, r.int(m.length))],
  [
    'garbage-value',
    (m, r) => {
      const lines = m.split(CRLF);
      const i = 1 + r.int(Math.max(1, lines.length - 1));
      const colon = (lines[i] ?? '').indexOf(':');
      if (colon > 0)
        lines[i] =
          `${lines[i].slice(0, colon + 1)} ${r.pick(GARBAGE)}${r.next() < 0.5 ? lines[i].slice(colon + 1) : ''}`;
      return lines.join(CRLF);
    },
  ],
  ['extension-method', (m, r) => m.replace(/^[A-Z]+ /, `X${r.int(1e9).toString(36).toUpperCase()} `)],
  [
    'odd-status',
    (m, r) => m.replace(/^SIP\/2\.0 \d+/, `SIP/2.0 ${r.pick([0, 1, 99, 700, 999, 1000, 199, 299, 699])}`),
  ],
  [
    'extension-header',
    (m, r) => m.replace(CRLF, `${CRLF}X-${r.int(1e9).toString(36)}: ${r.pick(GARBAGE)}${CRLF}`),
  ],
  ['bare-lf', (m) => m.replaceAll(CRLF, '\n')],
  [
    'sdp-garbage',
    (m, r) =>
      m.replace(/Content-Length: \d+\r\n\r\n[\s\S]*$/, () => {
        const body = r.pick([
          'hello',
          'v=0\r\nm=\r\n',
          'v=0\r\nm=audio x RTP/AVP\r\n',
          'v=0\r\nm=audio 9 RTP/AVP 0 0 0\r\na=rtpmap:0 \r\n',
        ]);
        return `Content-Type: application/sdp${CRLF}Content-Length: ${Buffer.byteLength(body)}${CRLF}${CRLF}${body}`;
      }),
  ],
  ['unterminated-quote', (m) => m.replace(/^(From|To): /m, '$1: "never closed ')],
  // Rare: the gateway closes the connection on it (1009), and the rest of that batch is lost.
  [
    'oversize',
    (m, r) => (r.next() < 0.02 ? m.replace(CRLF, `${CRLF}X-Padding: ${'x'.repeat(70_000)}${CRLF}`) : m),
  ],
  ['tagged-to', (m, r) => m.replace(/^(To: [^\r]*)/m, `$1;tag=${r.int(1e6)}`)],
  ['wrong-content-length', (m, r) => m.replace(/Content-Length: \d+/, `Content-Length: ${r.int(100)}`)],
];

/** The message number `index` of the run seeded `seed`, and the mutations it went through. */
export function fuzzMessage(r, { domain, users }) {
  const ctx = { r, domain, from: r.pick(users), to: r.pick(users) };
  const base = r.next() < 0.75 ? r.pick(REAL)(ctx) : r.pick(TORTURE)(ctx);
  const applied = [];
  let text = base;
  for (let n = 1 + r.int(3); n > 0; n--) {
    const [name, mutate] = r.pick(MUTATIONS);
    applied.push(name);
    text = mutate(text, r);
  }
  return { text, mutations: applied };
}

function register(user, domain) {
  return message(`REGISTER sip:${domain} SIP/2.0`, [
    `Via: SIP/2.0/WS ${user}.invalid;branch=z9hG4bK${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`,
    'Max-Forwards: 70',
    `From: <sip:${user}@${domain}>;tag=${user}`,
    `To: <sip:${user}@${domain}>`,
    `Call-ID: fuzz-register-${user}-${Math.random().toString(36).slice(2)}`,
    'CSeq: 1 REGISTER',
    `Contact: <sip:${user}@${user}.invalid;transport=ws>`,
    'Expires: 600',
  ]);
}

/**
 * Sends `count` fuzzed messages over `connections` WebSockets to `url`, each registered first as
 * a user the messages then call, so that the proxy forks to them (they never answer). Messages
 * go in batches, each followed by a CRLF keep-alive whose pong says the batch was handled
 * (a flow is handled in order), so the run never floods past what the gateway takes. A socket
 * the gateway closes (oversize frame, rate) is opened again. Resolves with counts.
 */
export async function runFuzz({ url, domain, count, seed = 1, connections = 8, batch = 50 }) {
  const r = seededRandom(seed);
  const users = Array.from({ length: connections }, (_, i) => `fuzz${i}`);
  const answers = new Map();
  const mutations = new Map();
  let forwarded = 0;
  let reconnects = 0;
  const open = (user) =>
    new Promise((resolve, reject) => {
      const socket = new WebSocket(url, 'sip', { perMessageDeflate: false });
      const state = { socket, waiting: undefined };
      socket.on('message', (data) => {
        const text = data.toString();
        if (text === CRLF) {
          state.waiting?.();
          return;
        }
        const status = /^SIP\/2\.0 (\d{3})/.exec(text)?.[1];
        if (status) answers.set(status, (answers.get(status) ?? 0) + 1);
        else forwarded += 1;
      });
      socket.on('close', () => state.waiting?.());
      socket.once('error', reject);
      socket.once('open', () => {
        socket.send(register(user, domain));
        resolve(state);
      });
    });
  const states = await Promise.all(users.map(open));
  let sent = 0;
  const loops = states.map(async (initial, index) => {
    let state = initial;
    while (sent < count) {
      if (state.socket.readyState !== WebSocket.OPEN) {
        reconnects += 1;
        state = await open(users[index]);
      }
      const done = new Promise((resolve) => {
        state.waiting = resolve;
      });
      for (let i = 0; i < batch && sent < count; i++, sent++) {
        const { text, mutations: names } = fuzzMessage(r, { domain, users });
        for (const name of names) mutations.set(name, (mutations.get(name) ?? 0) + 1);
        state.socket.send(text);
      }
      state.socket.send(CRLF + CRLF);
      await done;
    }
    state.socket.close();
  });
  await Promise.all(loops);
  return {
    sent,
    answers: Object.fromEntries([...answers].sort()),
    forwarded,
    reconnects,
    mutations: Object.fromEntries(mutations),
  };
}
