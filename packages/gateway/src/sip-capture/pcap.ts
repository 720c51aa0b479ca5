import type { CapturedMessage } from './captured-message.js';
import { familyOf, ipv4Bytes, ipv6Bytes, plainAddress } from './ip-address.js';

/**
 * A classic libpcap file (the format of tcpdump and Wireshark, "LINKTYPE_RAW": each record an IP
 * packet) of captured messages, with IP and UDP or TCP headers made up from the addresses and
 * ports of each message's flow. Stream transports (WS, WSS, TCP, TLS) are written as TCP segments
 * carrying the SIP text itself (the WebSocket framing and TLS are not kept), sequence numbers
 * running on per direction, so that Wireshark and sngrep read SIP over TCP.
 */

const LINKTYPE_RAW = 101;
const MAGIC_MICROSECONDS = 0xa1b2c3d4;
const SNAPLEN = 262_144;
const TCP_PSH_ACK = 0x18;

function globalHeader(): Buffer {
  const b = Buffer.alloc(24);
  b.writeUInt32LE(MAGIC_MICROSECONDS, 0);
  b.writeUInt16LE(2, 4);
  b.writeUInt16LE(4, 6);
  b.writeInt32LE(0, 8);
  b.writeUInt32LE(0, 12);
  b.writeUInt32LE(SNAPLEN, 16);
  b.writeUInt32LE(LINKTYPE_RAW, 20);
  return b;
}

function recordHeader(at: number, length: number): Buffer {
  const micros = Math.round(at * 1000);
  const b = Buffer.alloc(16);
  b.writeUInt32LE(Math.floor(micros / 1e6), 0);
  b.writeUInt32LE(micros % 1e6, 4);
  b.writeUInt32LE(length, 8);
  b.writeUInt32LE(length, 12);
  return b;
}

/** RFC 1071 checksum of an IPv4 header. */
function ipChecksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += header.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function ipHeader(src: string, dst: string, protocol: number, payloadLength: number): Buffer {
  if (familyOf(src, dst) === 4) {
    const h = Buffer.alloc(20);
    h.writeUInt8(0x45, 0);
    h.writeUInt16BE(20 + payloadLength, 2);
    h.writeUInt8(64, 8);
    h.writeUInt8(protocol, 9);
    ipv4Bytes(src).copy(h, 12);
    ipv4Bytes(dst).copy(h, 16);
    h.writeUInt16BE(ipChecksum(h), 10);
    return h;
  }
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(payloadLength, 4);
  h.writeUInt8(protocol, 6);
  h.writeUInt8(64, 7);
  ipv6Bytes(src).copy(h, 8);
  ipv6Bytes(dst).copy(h, 24);
  return h;
}

/** The pcap file of `messages`, in order. */
export function capturePcap(messages: readonly CapturedMessage[]): Buffer {
  const parts: Buffer[] = [globalHeader()];
  /** Next TCP sequence number of each direction of each connection. */
  const sequences = new Map<string, number>();
  for (const message of messages) {
    const payload = Buffer.from(message.text);
    const src = plainAddress(message.src.ip);
    const dst = plainAddress(message.dst.ip);
    let transport: Buffer;
    if (message.transport === 'UDP') {
      transport = Buffer.alloc(8);
      transport.writeUInt16BE(message.src.port, 0);
      transport.writeUInt16BE(message.dst.port, 2);
      transport.writeUInt16BE(8 + payload.length, 4);
    } else {
      const forward = `${src}:${message.src.port}>${dst}:${message.dst.port}`;
      const backward = `${dst}:${message.dst.port}>${src}:${message.src.port}`;
      const seq = sequences.get(forward) ?? 1;
      sequences.set(forward, (seq + payload.length) >>> 0);
      transport = Buffer.alloc(20);
      transport.writeUInt16BE(message.src.port, 0);
      transport.writeUInt16BE(message.dst.port, 2);
      transport.writeUInt32BE(seq, 4);
      transport.writeUInt32BE(sequences.get(backward) ?? 1, 8);
      transport.writeUInt8(5 << 4, 12);
      transport.writeUInt8(TCP_PSH_ACK, 13);
      transport.writeUInt16BE(0xffff, 14);
    }
    const protocol = message.transport === 'UDP' ? 17 : 6;
    const ip = ipHeader(src, dst, protocol, transport.length + payload.length);
    const length = ip.length + transport.length + payload.length;
    parts.push(recordHeader(message.at, length), ip, transport, payload);
  }
  return Buffer.concat(parts);
}
