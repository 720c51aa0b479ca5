import { describe, expect, it } from '@jest/globals';
import { CallRing } from '../src/sip-capture/call-ring.js';
import {
  type CapturedMessage,
  readCallId,
  readHead,
  startsAsSipMessage,
} from '../src/sip-capture/captured-message.js';
import { parseHepUrl } from '../src/sip-capture/hep-sender.js';
import { encodeHep3 } from '../src/sip-capture/hep3.js';
import { ladderOf, ladderText } from '../src/sip-capture/ladder.js';
import { capturePcap } from '../src/sip-capture/pcap.js';
import { maskSecrets } from '../src/sip-capture/secret-masking.js';

const invite = (callId: string, extra = '', body = '') =>
  [
    'INVITE sip:bob@ringway.test SIP/2.0',
    'Via: SIP/2.0/WSS abc.invalid;branch=z9hG4bK1',
    'From: "Alice" <sip:alice@ringway.test>;tag=a1',
    'To: <sip:bob@ringway.test>',
    `Call-ID: ${callId}`,
    'CSeq: 2 INVITE',
    ...(extra ? [extra] : []),
    `Content-Length: ${body.length}`,
    '',
    body,
  ].join('\r\n');

const response = (callId: string, status: string, method = 'INVITE') =>
  [
    `SIP/2.0 ${status}`,
    'Via: SIP/2.0/WSS abc.invalid;branch=z9hG4bK1',
    'From: "Alice" <sip:alice@ringway.test>;tag=a1',
    'To: <sip:bob@ringway.test>;tag=b1',
    `Call-ID: ${callId}`,
    `CSeq: 2 ${method}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');

let seq = 0;
function captured(text: string, at: number, from = 'client', to = 'gateway'): CapturedMessage {
  if (!startsAsSipMessage(text)) throw new Error('not SIP');
  const endpoint = (role: string, port: number) =>
    ({ ip: role === 'gateway' ? '127.0.0.1' : '::ffff:127.0.0.1', port, role }) as CapturedMessage['src'];
  return {
    seq: ++seq,
    at,
    transport: 'WS',
    src: endpoint(from, from === 'gateway' ? 8080 : 50000),
    dst: endpoint(to, to === 'gateway' ? 8080 : 50000),
    text,
  };
}

/** What the capture does with a message: its Call-ID read, the rest left to the ring. */
function record(ring: CallRing, text: string, at = 1000, from = 'client', to = 'gateway') {
  return ring.record(captured(text, at, from, to), readCallId(text) as string);
}

describe('maskSecrets', () => {
  it('hides digest response, nonce and cnonce but keeps the rest of Authorization', () => {
    const text = invite(
      'c1',
      'Proxy-Authorization: Digest username="1700000000:alice", realm="ringway.test", nonce="n0nc3-value", uri="sip:bob@ringway.test", response="0123456789abcdef", cnonce="cn0nce", qop=auth, nc=00000001',
    );
    const masked = maskSecrets(text);
    for (const secret of ['n0nc3-value', '0123456789abcdef', 'cn0nce']) expect(masked).not.toContain(secret);
    expect(masked).toContain('username="1700000000:alice"');
    expect(masked).toContain('response="****************"');
    expect(masked.length).toBe(text.length);
  });

  it('hides the nonce of a challenge, call tokens, dialog tokens, URI passwords and media keys', () => {
    const body =
      'v=0\r\na=ice-pwd:icepassword123\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:S3cr3tK3y==|2^31\r\n';
    const text = [
      'SIP/2.0 401 Unauthorized',
      'WWW-Authenticate: Digest realm="ringway.test", nonce="challenge-nonce", algorithm=MD5',
      'Ringway-Call-Token: 0f0f0f0f.YWxpY2U',
      'Record-Route: <sip:127.0.0.1:8080;lr;dlg=deadbeefcafe>',
      'Contact: <sip:alice:hunter2@10.0.0.1>',
      'Call-ID: c2',
      'CSeq: 1 INVITE',
      `Content-Length: ${body.length}`,
      '',
      body,
    ].join('\r\n');
    const masked = maskSecrets(text);
    for (const secret of [
      'challenge-nonce',
      '0f0f0f0f.YWxpY2U',
      'deadbeefcafe',
      'hunter2',
      'icepassword123',
      'S3cr3tK3y==',
    ])
      expect(masked).not.toContain(secret);
    expect(masked).toContain('sip:alice:*******@10.0.0.1');
    expect(masked).toContain(';dlg=************>');
    // Same length: Content-Length stays true.
    expect(masked.length).toBe(text.length);
  });
});

describe('readHead', () => {
  it('reads the headers the ring needs by any spelling: compact forms, any case, blanks before the colon, bare LF', () => {
    const text = [
      'SIP/2.0 180 Ringing',
      'v: SIP/2.0/WSS abc.invalid;branch=z9hG4bK1',
      'f : "Alice" <sip:alice@ringway.test>;tag=a1',
      'TO:<sip:bob@ringway.test>;tag=b1',
      'i:   call-7  ',
      'cseq: 4 INVITE',
      'Subject: To: nobody',
      'l: 0',
      '',
      '',
    ].join('\n');
    expect(readHead(text)).toEqual({
      callId: 'call-7',
      method: undefined,
      status: 180,
      label: '180 Ringing',
      cseq: '4 INVITE',
      cseqMethod: 'INVITE',
      toTagged: true,
      from: '"Alice" <sip:alice@ringway.test>;tag=a1',
      to: '<sip:bob@ringway.test>;tag=b1',
    });
  });

  it('takes the first of a header given twice, and nothing from the body', () => {
    const body = 'Call-ID: in-the-body\r\n';
    const text = invite('first', 'Call-ID: second', body);
    expect(readHead(text)?.callId).toBe('first');
    expect(readHead(text.replace('Call-ID: first\r\n', ''))?.callId).toBe('second');
    expect(readHead(invite('x').replace(/Call-ID: x\r\n/, ''))?.callId).toBeUndefined();
    expect(readHead('hello')).toBeUndefined();
  });

  it('has readCallId read the same Call-ID alone, by any spelling, and none from the body', () => {
    const body = 'Call-ID: in-the-body\r\n';
    const text = invite('first', 'Call-ID: second', body);
    expect(readCallId(text)).toBe('first');
    const compact = invite('first', '', body).replace('Call-ID: first\r\n', 'i :  compact  \r\n');
    expect(readCallId(compact)).toBe('compact');
    expect(readCallId(compact.replace('i :  compact', 'call-id:x'))).toBe('x');
    expect(readCallId(invite('x', '', body).replace(/Call-ID: x\r\n/, ''))).toBeUndefined();
    // To the end of its line however it ends: at the end of the text, or at a bare LF.
    expect(readCallId(`${response('r', '200 OK').trimEnd()}\r\nCall-ID: last`)).toBe('r');
    expect(readCallId(invite('x').replace('Call-ID: x\r\n', 'Call-ID: mixed\nSubject: s\r\n'))).toBe('mixed');
    expect(
      readCallId(
        invite('x')
          .replace(/Call-ID: x\r\n/, '')
          .replace('CSeq', 'Call-ID: at-end\r\nCSeq'),
      ),
    ).toBe('at-end');
    expect(startsAsSipMessage(text)).toBe(true);
    expect(startsAsSipMessage('hello')).toBe(false);
  });
});

describe('CallRing', () => {
  it('masks the secrets of the messages it gives out, and names the parties without URI passwords', () => {
    const ring = new CallRing({ maxCalls: 10, maxBytes: 1 << 20 });
    const secret =
      'Proxy-Authorization: Digest username="1700000000:alice", nonce="n0nc3", response="r3sp0ns3"';
    const text = invite('masked', secret).replace(
      '<sip:alice@ringway.test>',
      '<sip:alice:hunter2@ringway.test>',
    );
    expect(record(ring, text)).toBe(true);
    const call = ring.get('masked');
    expect(call?.from).toBe('alice@ringway.test');
    const [message] = call?.messages ?? [];
    for (const hidden of ['n0nc3', 'r3sp0ns3', 'hunter2']) expect(message?.text).not.toContain(hidden);
    expect(message?.text).toContain('response="********"');
    // Every read-out is masked, the second as the first.
    expect(ring.get('masked')?.messages[0]?.text).toBe(message?.text);
  });

  it('begins a call with an initial INVITE and ignores messages of Call-IDs that are no call', () => {
    const ring = new CallRing({ maxCalls: 10, maxBytes: 1 << 20 });
    expect(record(ring, response('reg', '200 OK', 'REGISTER'))).toBe(false);
    expect(record(ring, invite('c1'), 1000)).toBe(true);
    expect(record(ring, response('c1', '180 Ringing'), 1100)).toBe(true);
    expect(record(ring, response('c1', '200 OK'), 1400)).toBe(true);
    const call = ring.get('c1');
    expect(call).toMatchObject({
      from: 'alice@ringway.test',
      to: 'bob@ringway.test',
      outcome: 'answered',
      status: 200,
      ringingMs: 100,
      setupMs: 400,
    });
    expect(ring.size).toBe(1);
  });

  it('keeps at most maxCalls calls, forgetting the oldest first', () => {
    const ring = new CallRing({ maxCalls: 3, maxBytes: 1 << 20 });
    for (let i = 1; i <= 5; i++) record(ring, invite(`call-${i}`));
    expect(ring.calls().map((c) => c.callId)).toEqual(['call-5', 'call-4', 'call-3']);
    expect(ring.bytes).toBe(3 * Buffer.byteLength(invite('call-1')));
  });

  it('keeps at most maxBytes of messages, forgetting whole old calls, and truncates a call past half of it', () => {
    const size = Buffer.byteLength(invite('call-1'));
    const ring = new CallRing({ maxCalls: 100, maxBytes: size * 4 });
    for (let i = 1; i <= 6; i++) record(ring, invite(`call-${i}`));
    expect(ring.bytes).toBeLessThanOrEqual(size * 4);
    expect(ring.calls().map((c) => c.callId)).toEqual(['call-6', 'call-5', 'call-4', 'call-3']);
    // One call alone may take half the ring: its later messages are left out, and it says so.
    for (let i = 0; i < 5; i++) record(ring, response('call-6', '180 Ringing'));
    expect(ring.get('call-6')).toMatchObject({ truncated: true, outcome: 'ringing' });
    // A message left out still tells how the call went.
    expect(record(ring, response('call-6', '200 OK'), 1500)).toBe(false);
    const call = ring.get('call-6');
    expect(call).toMatchObject({ outcome: 'answered', status: 200, setupMs: 500 });
    expect(call?.bytes).toBeLessThanOrEqual(size * 2);
    expect(ring.bytes).toBeLessThanOrEqual(size * 4);
  });

  it('follows a message left out after those kept, in the order they came', () => {
    const kept = Buffer.byteLength(invite('o')) + Buffer.byteLength(response('o', '180 Ringing'));
    const ring = new CallRing({ maxCalls: 5, maxBytes: 2 * kept });
    expect(record(ring, invite('o'), 1000)).toBe(true);
    expect(record(ring, response('o', '180 Ringing'), 1100)).toBe(true);
    expect(record(ring, response('o', '200 OK'), 1400)).toBe(false);
    expect(ring.get('o')).toMatchObject({
      truncated: true,
      outcome: 'answered',
      ringingMs: 100,
      setupMs: 400,
    });
  });

  it('takes no call at all with maxCalls 0, and no Call-ID longer than 256 characters', () => {
    expect(record(new CallRing({ maxCalls: 0, maxBytes: 1 << 20 }), invite('c'))).toBe(false);
    expect(record(new CallRing({ maxCalls: 5, maxBytes: 1 << 20 }), invite('x'.repeat(257)))).toBe(false);
  });

  it('calls a rejected call rejected with its status, a CANCELled one cancelled, and a challenge neither', () => {
    const ring = new CallRing({ maxCalls: 5, maxBytes: 1 << 20 });
    record(ring, invite('busy'));
    record(ring, response('busy', '486 Busy Here'));
    record(ring, invite('gone'));
    record(ring, invite('gone').replace('INVITE sip', 'CANCEL sip').replace('2 INVITE', '2 CANCEL'));
    record(ring, response('gone', '487 Request Terminated'));
    record(ring, invite('challenged'));
    record(ring, response('challenged', '407 Proxy Authentication Required'));
    expect(ring.get('challenged')).toMatchObject({ outcome: 'calling', status: undefined });
    expect(ring.get('busy')).toMatchObject({ outcome: 'rejected', status: 486 });
    expect(ring.get('gone')).toMatchObject({ outcome: 'cancelled', status: 487 });
  });
});

describe('ladderOf and ladderText', () => {
  it('puts the gateway second and each message as an arrow between columns, timed from the first', () => {
    const ring = new CallRing({ maxCalls: 5, maxBytes: 1 << 20 });
    const text = invite('l1');
    record(ring, text, 1000);
    record(ring, invite('l1'), 1002.5, 'gateway', 'upstream');
    record(ring, response('l1', '200 OK'), 1010, 'gateway', 'client');
    const ladder = ladderOf(ring.get('l1') as never);
    expect(ladder.columns.map((c) => c.role)).toEqual(['client', 'gateway', 'upstream']);
    expect(ladder.columns[0]?.addresses).toEqual(['127.0.0.1:50000']);
    expect(ladder.arrows.map((a) => [a.label, a.from, a.to, a.offsetMs])).toEqual([
      ['INVITE', 0, 1, 0],
      ['INVITE', 1, 2, 2.5],
      ['200 OK', 1, 0, 10],
    ]);
    const textExport = ladderText(ring.get('l1') as never);
    expect(textExport).toContain('Call-ID: l1');
    expect(textExport).toContain('[0] <--- [1]  WS  200 OK');
  });
});

describe('capturePcap', () => {
  it('writes a libpcap file of raw IP records with UDP and TCP headers from the flow addresses', () => {
    const a = captured(invite('p1'), 1_700_000_000_123.456);
    const b = {
      ...captured(response('p1', '200 OK'), 1_700_000_000_200, 'upstream', 'gateway'),
      transport: 'UDP' as const,
    };
    const file = capturePcap([a, b]);
    // Global header: magic, version 2.4, snaplen, LINKTYPE_RAW (101).
    expect(file.readUInt32LE(0)).toBe(0xa1b2c3d4);
    expect([file.readUInt16LE(4), file.readUInt16LE(6)]).toEqual([2, 4]);
    expect(file.readUInt32LE(20)).toBe(101);
    // First record: time, lengths, an IPv4 header (the mapped address made plain) and TCP.
    let at = 24;
    expect(file.readUInt32LE(at)).toBe(1_700_000_000);
    expect(file.readUInt32LE(at + 4)).toBe(123_456);
    const length = file.readUInt32LE(at + 8);
    expect(file.readUInt32LE(at + 12)).toBe(length);
    const ip = at + 16;
    expect(file.readUInt8(ip)).toBe(0x45);
    expect(file.readUInt8(ip + 9)).toBe(6);
    expect([...file.subarray(ip + 12, ip + 16)]).toEqual([127, 0, 0, 1]);
    expect(file.readUInt16BE(ip + 20)).toBe(50000);
    expect(file.readUInt16BE(ip + 22)).toBe(8080);
    expect(file.subarray(ip + 40, ip + length).toString()).toBe(invite('p1'));
    // Second record: UDP.
    at = ip + length;
    const second = at + 16;
    expect(file.readUInt8(second + 9)).toBe(17);
    expect(file.readUInt16BE(second + 24)).toBe(8 + Buffer.byteLength(response('p1', '200 OK')));
    expect(second + file.readUInt32LE(at + 8)).toBe(file.length);
  });
});

describe('encodeHep3', () => {
  it('writes HEP3 chunks in siptrace order: family, protocol, ports, time, type SIP, agent, addresses, payload', () => {
    const payload = Buffer.from(invite('h1'));
    const packet = encodeHep3({
      at: 1_700_000_000_000.5,
      transport: 'WS',
      src: { ip: '::ffff:127.0.0.1', port: 50000 },
      dst: { ip: '127.0.0.1', port: 8080 },
      captureAgentId: 2001,
      payload,
    }) as Buffer;
    expect(packet.subarray(0, 4).toString()).toBe('HEP3');
    expect(packet.readUInt16BE(4)).toBe(packet.length);
    const chunks: Array<[number, Buffer]> = [];
    for (let at = 6; at < packet.length; ) {
      expect(packet.readUInt16BE(at)).toBe(0);
      const length = packet.readUInt16BE(at + 4);
      chunks.push([packet.readUInt16BE(at + 2), packet.subarray(at + 6, at + length)]);
      at += length;
    }
    expect(chunks.map(([type]) => type)).toEqual([1, 2, 7, 8, 9, 10, 11, 12, 3, 4, 15]);
    const value = new Map(chunks);
    expect(value.get(1)?.readUInt8()).toBe(2);
    expect(value.get(2)?.readUInt8()).toBe(6);
    expect(value.get(7)?.readUInt16BE()).toBe(50000);
    expect(value.get(8)?.readUInt16BE()).toBe(8080);
    expect(value.get(9)?.readUInt32BE()).toBe(1_700_000_000);
    expect(value.get(10)?.readUInt32BE()).toBe(500);
    expect(value.get(11)?.readUInt8()).toBe(1);
    expect(value.get(12)?.readUInt32BE()).toBe(2001);
    expect([...(value.get(3) ?? [])]).toEqual([127, 0, 0, 1]);
    expect(value.get(15)?.equals(payload)).toBe(true);
  });

  it('writes IPv6 addresses when an end is IPv6, and nothing for a message over 64 KB', () => {
    const packet = encodeHep3({
      at: 0,
      transport: 'UDP',
      src: { ip: '2001:db8::1', port: 5060 },
      dst: { ip: '127.0.0.1', port: 5060 },
      captureAgentId: 1,
      payload: Buffer.from('OPTIONS sip:x SIP/2.0\r\n\r\n'),
    }) as Buffer;
    expect(packet.readUInt8(6 + 6)).toBe(10);
    expect(packet.includes(Buffer.from([0x20, 0x01, 0x0d, 0xb8]))).toBe(true);
    const huge = {
      at: 0,
      transport: 'UDP' as const,
      src: { ip: '127.0.0.1', port: 1 },
      dst: { ip: '127.0.0.1', port: 2 },
    };
    expect(encodeHep3({ ...huge, captureAgentId: 1, payload: Buffer.alloc(70_000) })).toBeUndefined();
  });
});

describe('parseHepUrl', () => {
  it('takes udp:<ip>:<port> and refuses names, other schemes and bad ports', () => {
    expect(parseHepUrl('udp:127.0.0.1:9060')).toEqual({ host: '127.0.0.1', port: 9060 });
    expect(parseHepUrl('udp:[::1]:9060')).toEqual({ host: '::1', port: 9060 });
    for (const bad of ['udp:homer:9060', 'tcp:127.0.0.1:9060', 'udp:127.0.0.1:0', 'udp:300.1.1.1:9060'])
      expect(() => parseHepUrl(bad)).toThrow(/udp:<ip>:<port>/);
  });
});
