import type { CaptureTransport } from './captured-message.js';
import { familyOf, ipv4Bytes, ipv6Bytes, plainAddress } from './ip-address.js';

/**
 * HEPv3 (HEP-EEP, sipcapture's "HEP3 Network Protocol Specification"), the encapsulation
 * Kamailio's siptrace, rtpengine and Homer speak. Written here rather than taken from npm: the one
 * maintained encoder there (hep-js) is GPL-2.0, which the gateway's bundle cannot take, and
 * encoding is a dozen fixed chunks.
 *
 * A packet is "HEP3", its total length (uint16), then chunks of vendor id (0: generic), type id,
 * length (with its 6-byte header) and value, all big-endian. The chunks go in the order
 * Kamailio's siptrace writes them, because sngrep 1.6 (capture_eep.c) reads a HEP3 packet by
 * position, not by type: family, protocol, ports, time, protocol type, agent id, addresses, payload.
 */

/** Generic chunk types used (spec table "Chunk types"). */
const CHUNK = {
  ipFamily: 0x0001,
  ipProtocol: 0x0002,
  ipv4Source: 0x0003,
  ipv4Destination: 0x0004,
  ipv6Source: 0x0005,
  ipv6Destination: 0x0006,
  sourcePort: 0x0007,
  destinationPort: 0x0008,
  seconds: 0x0009,
  microseconds: 0x000a,
  protocolType: 0x000b,
  captureAgentId: 0x000c,
  payload: 0x000f,
} as const;

/** Protocol type 1: SIP. */
const PROTOCOL_SIP = 1;
/** Address families as the C socket API numbers them (AF_INET, AF_INET6 on Linux), as HEP carries them. */
const AF_INET = 2;
const AF_INET6 = 10;

/**
 * The IP protocol chunk of each transport. HEP has no value for WebSocket: sofia-sip's and
 * reSIProcate's HEP senders write WS and WSS as TCP (6), and TLS as 22 (IPPROTO_IDP), as here.
 */
const IP_PROTOCOL: Readonly<Record<CaptureTransport, number>> = {
  UDP: 17,
  TCP: 6,
  WS: 6,
  WSS: 6,
  TLS: 22,
};

export interface HepPacket {
  /** When it was sent or received, ms since the epoch (fractional: microseconds). */
  at: number;
  transport: CaptureTransport;
  src: { ip: string; port: number };
  dst: { ip: string; port: number };
  captureAgentId: number;
  payload: Buffer;
}

function chunk(type: number, value: Buffer): Buffer {
  const header = Buffer.alloc(6);
  header.writeUInt16BE(0, 0);
  header.writeUInt16BE(type, 2);
  header.writeUInt16BE(6 + value.length, 4);
  return Buffer.concat([header, value]);
}

const uint8 = (n: number) => Buffer.from([n]);
function uint16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}
function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** Largest HEP packet: its length field is 16 bits. */
export const MAX_HEP_BYTES = 0xffff;

/** The HEPv3 packet of one SIP message, or undefined when it would not fit (over 64 KB). */
export function encodeHep3(packet: HepPacket): Buffer | undefined {
  // Every chunk but the payload's takes 123 bytes at most (IPv6 addresses), the header 6.
  if (packet.payload.length > MAX_HEP_BYTES - 129) return undefined;
  const src = plainAddress(packet.src.ip);
  const dst = plainAddress(packet.dst.ip);
  const v4 = familyOf(src, dst) === 4;
  const micros = Math.round(packet.at * 1000);
  const chunks = [
    chunk(CHUNK.ipFamily, uint8(v4 ? AF_INET : AF_INET6)),
    chunk(CHUNK.ipProtocol, uint8(IP_PROTOCOL[packet.transport])),
    chunk(CHUNK.sourcePort, uint16(packet.src.port)),
    chunk(CHUNK.destinationPort, uint16(packet.dst.port)),
    chunk(CHUNK.seconds, uint32(Math.floor(micros / 1e6))),
    chunk(CHUNK.microseconds, uint32(micros % 1e6)),
    chunk(CHUNK.protocolType, uint8(PROTOCOL_SIP)),
    chunk(CHUNK.captureAgentId, uint32(packet.captureAgentId)),
    v4 ? chunk(CHUNK.ipv4Source, ipv4Bytes(src)) : chunk(CHUNK.ipv6Source, ipv6Bytes(src)),
    v4 ? chunk(CHUNK.ipv4Destination, ipv4Bytes(dst)) : chunk(CHUNK.ipv6Destination, ipv6Bytes(dst)),
    chunk(CHUNK.payload, packet.payload),
  ];
  const length = 6 + chunks.reduce((sum, c) => sum + c.length, 0);
  const header = Buffer.alloc(6);
  header.write('HEP3', 0, 'ascii');
  header.writeUInt16BE(length, 4);
  return Buffer.concat([header, ...chunks], length);
}
